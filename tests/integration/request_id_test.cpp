// X-Request-Id: echoed when valid, generated when missing or invalid, and
// the same id in the access log line.
#include <gtest/gtest.h>

#include <regex>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

bool is_generated_id(const std::string& id) {
  static const std::regex kHex32("[0-9a-f]{32}");
  return std::regex_match(id, kHex32);
}

class RequestIdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = try_serve({}, {}, error_); }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_NE(server_, nullptr) << error_; }
  static std::uint16_t port() { return server_->port(); }

  // The access log line carrying `id`, parsed.
  static nlohmann::json access_line(const std::string& id) {
    const auto line = server_->wait_for_log({"\"request_id\":\"" + id + "\""});
    if (!line) return nlohmann::json();
    return nlohmann::json::parse(*line, nullptr, false);
  }

  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string error_;
};

TEST_F(RequestIdTest, ValidIdIsEchoed) {
  for (const std::string& id :
       std::vector<std::string>{"trace-ABC_123.x", "a", std::string(128, 'z')}) {
    const HttpResponse res = http_get(port(), "/health", {{"X-Request-Id", id}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.header("X-Request-Id"), id);
  }
}

TEST_F(RequestIdTest, InvalidIdIsReplaced) {
  for (const std::string& id :
       std::vector<std::string>{"has space", "quote\"inside", "new{line}", "semi;colon",
                                std::string(129, 'a'), "%2e%2e"}) {
    const HttpResponse res = http_get(port(), "/health", {{"X-Request-Id", id}});
    EXPECT_EQ(res.status, 200u);
    const std::string got = res.header("X-Request-Id");
    EXPECT_NE(got, id);
    EXPECT_TRUE(is_generated_id(got)) << "for " << id << " got " << got;
  }
}

TEST_F(RequestIdTest, MissingIdIsGeneratedAndUnique) {
  const std::string a = http_get(port(), "/health").header("X-Request-Id");
  const std::string b = http_get(port(), "/health").header("X-Request-Id");
  EXPECT_TRUE(is_generated_id(a)) << a;
  EXPECT_TRUE(is_generated_id(b)) << b;
  EXPECT_NE(a, b);
}

TEST_F(RequestIdTest, ErrorResponsesCarryTheId) {
  const HttpResponse not_found = http_get(port(), "/v1/nonexistent", {{"X-Request-Id", "err-404"}});
  EXPECT_EQ(not_found.status, 404u);
  EXPECT_EQ(not_found.header("X-Request-Id"), "err-404");
  const HttpResponse not_allowed = http_post(port(), "/ready", "", {{"X-Request-Id", "err-405"}});
  EXPECT_EQ(not_allowed.status, 405u);
  EXPECT_EQ(not_allowed.header("X-Request-Id"), "err-405");
}

TEST_F(RequestIdTest, GivenIdAppearsInAccessLog) {
  const std::string id = "it-log-" + std::to_string(pick_free_port());
  const HttpResponse res =
      http_get(port(), "/health?probe=1", {{"X-Request-Id", id}, {"User-Agent", "it-agent/1"}});
  ASSERT_EQ(res.status, 200u);
  const auto j = access_line(id);
  ASSERT_TRUE(j.is_object()) << server_->describe();
  EXPECT_EQ(j.value("message", ""), "request");
  EXPECT_EQ(j.value("level", ""), "info");
  EXPECT_EQ(j.value("method", ""), "GET");
  EXPECT_EQ(j.value("path", ""), "/health");  // no query string
  EXPECT_EQ(j.value("route", ""), "/health");
  EXPECT_EQ(j.value("status", 0), 200);
  ASSERT_TRUE(j.contains("duration_ms") && j["duration_ms"].is_number()) << j.dump();
  EXPECT_GE(j["duration_ms"].get<double>(), 0.0);
  EXPECT_LT(j["duration_ms"].get<double>(), 5000.0);
  EXPECT_EQ(j.value("client_ip", ""), "127.0.0.1");
  EXPECT_EQ(j.value("user_agent", ""), "it-agent/1");
}

TEST_F(RequestIdTest, GeneratedIdAppearsInAccessLog) {
  const HttpResponse res = http_get(port(), "/v1/nonexistent", {{"X-Request-Id", "bad id"}});
  ASSERT_EQ(res.status, 404u);
  const std::string id = res.header("X-Request-Id");
  ASSERT_TRUE(is_generated_id(id)) << id;
  const auto j = access_line(id);
  ASSERT_TRUE(j.is_object()) << server_->describe();
  EXPECT_EQ(j.value("status", 0), 404);
  EXPECT_EQ(j.value("level", ""), "warn");  // 4xx
  EXPECT_EQ(j.value("route", "?"), "");     // matched no route
  EXPECT_EQ(j.value("path", ""), "/v1/nonexistent");
}

}  // namespace
}  // namespace scribepod::testing
