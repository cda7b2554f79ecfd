// /health, /ready, 404/405 and connection handling (keep-alive, pipelining,
// Connection: close, HTTP/1.0) against the real binary.
#include <gtest/gtest.h>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

class HealthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = try_serve({}, {}, error_); }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_NE(server_, nullptr) << error_; }
  static std::uint16_t port() { return server_->port(); }

  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string error_;
};

TEST_F(HealthTest, HealthReportsStatusJson) {
  const HttpResponse res = http_get(port(), "/health");
  ASSERT_EQ(res.status, 200u) << res.head_text() << res.body;
  EXPECT_EQ(res.header("Content-Type").rfind("application/json", 0), 0u) << res.head_text();
  EXPECT_EQ(res.header("Cache-Control"), "no-store");
  const auto j = res.json();
  ASSERT_TRUE(j.is_object()) << res.body;
  EXPECT_EQ(j.value("status", ""), "ok");
  EXPECT_EQ(j.value("service", ""), "scribepod");
  EXPECT_TRUE(j.contains("version") && j["version"].is_string()) << res.body;
  ASSERT_TRUE(j.contains("timestamp") && j["timestamp"].is_string()) << res.body;
  EXPECT_TRUE(is_iso8601_utc(j["timestamp"].get<std::string>())) << j["timestamp"];
  ASSERT_TRUE(j.contains("uptime") && j["uptime"].is_number()) << res.body;
  EXPECT_GE(j["uptime"].get<double>(), 0.0);
  ASSERT_TRUE(j.contains("activeSessions") && j["activeSessions"].is_number_unsigned()) << res.body;
}

TEST_F(HealthTest, ReadyIs200WhenListening) {
  const HttpResponse res = http_get(port(), "/ready");
  ASSERT_EQ(res.status, 200u) << res.head_text() << res.body;
  const auto j = res.json();
  ASSERT_TRUE(j.is_object()) << res.body;
  EXPECT_EQ(j.value("status", ""), "ready");
  ASSERT_TRUE(j.contains("notReady") && j["notReady"].is_array()) << res.body;
  EXPECT_TRUE(j["notReady"].empty()) << res.body;
  EXPECT_FALSE(res.has("Retry-After"));
}

TEST_F(HealthTest, WrongMethodIs405WithAllow) {
  const HttpResponse res =
      http_post(port(), "/health", "{}", {{"Content-Type", "application/json"}});
  EXPECT_TRUE(IsJsonError(res, 405, "method_not_allowed"));
  EXPECT_NE(res.header("Allow").find("GET"), std::string::npos) << res.head_text();
  EXPECT_EQ(res.json().value("retryable", true), false);
}

TEST_F(HealthTest, UnknownPathIs404Json) {
  const HttpResponse res = http_get(port(), "/v1/nonexistent");
  EXPECT_TRUE(IsJsonError(res, 404, "not_found"));
  EXPECT_EQ(res.json().value("retryable", true), false);
}

TEST_F(HealthTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  HttpConnection conn(port());
  const char* targets[] = {"/health", "/ready", "/v1/nonexistent", "/health", "/health"};
  const unsigned expected[] = {200, 200, 404, 200, 200};
  for (std::size_t i = 0; i < std::size(targets); ++i) {
    const HttpResponse res = conn.roundtrip(make_request("GET", targets[i]));
    EXPECT_EQ(res.status, expected[i]) << targets[i] << "\n" << res.head_text();
    EXPECT_TRUE(res.keep_alive) << "request " << i << " closed the connection\n" << res.head_text();
  }
}

TEST_F(HealthTest, PipelinedRequestsAnsweredInOrder) {
  HttpConnection conn(port());
  ASSERT_TRUE(conn.send(make_request("GET", "/health", {{"X-Request-Id", "pipe-1"}}) +
                        make_request("GET", "/v1/nonexistent", {{"X-Request-Id", "pipe-2"}}) +
                        make_request("GET", "/ready", {{"X-Request-Id", "pipe-3"}})));
  const HttpResponse a = conn.read();
  const HttpResponse b = conn.read();
  const HttpResponse c = conn.read();
  EXPECT_EQ(a.status, 200u);
  EXPECT_EQ(a.header("X-Request-Id"), "pipe-1");
  EXPECT_EQ(b.status, 404u);
  EXPECT_EQ(b.header("X-Request-Id"), "pipe-2");
  EXPECT_EQ(c.status, 200u);
  EXPECT_EQ(c.header("X-Request-Id"), "pipe-3");
}

TEST_F(HealthTest, ConnectionCloseIsHonoured) {
  HttpConnection conn(port());
  const HttpResponse res =
      conn.roundtrip(make_request("GET", "/health", {{"Connection", "close"}}));
  EXPECT_EQ(res.status, 200u);
  EXPECT_FALSE(res.keep_alive) << res.head_text();
  std::string extra;
  EXPECT_TRUE(conn.wait_closed(1s, &extra)) << "the server kept the connection open";
  EXPECT_EQ(extra, "");
}

TEST_F(HealthTest, Http10ClosesAfterResponse) {
  HttpConnection conn(port());
  const HttpResponse res = conn.roundtrip(make_request("GET", "/health", {}, {}, "HTTP/1.0"));
  EXPECT_EQ(res.status, 200u);
  EXPECT_FALSE(res.keep_alive) << res.head_text();
  EXPECT_TRUE(conn.wait_closed(1s)) << "the server kept an HTTP/1.0 connection open";
}

TEST_F(HealthTest, HeadHasHeadersButNoBody) {
  HttpConnection conn(port());
  const HttpResponse head = conn.roundtrip(make_request("HEAD", "/health"), /*head_request=*/true);
  EXPECT_EQ(head.status, 200u) << head.head_text();
  EXPECT_EQ(head.header("Content-Type").rfind("application/json", 0), 0u) << head.head_text();
  // If the server had sent a body, it would be parsed as the next response.
  const HttpResponse next = conn.roundtrip(make_request("GET", "/ready"));
  EXPECT_EQ(next.status, 200u) << next.head_text();
  EXPECT_EQ(next.json().value("status", ""), "ready") << next.body;
}

}  // namespace
}  // namespace scribepod::testing
