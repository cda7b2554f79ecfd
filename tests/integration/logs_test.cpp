// Logs: one JSON object per stdout line with time, level and message; access
// lines with request id, route, status and duration; no secrets anywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <set>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

constexpr const char* kApiKey = "sk-live-AAAA1111bbbb2222";
constexpr const char* kApiKey2 = "sk-live-CCCC3333dddd4444";
constexpr const char* kAdminKey = "sk-admin-EEEE5555ffff6666";
constexpr const char* kFileKey = "sk-file-GGGG7777hhhh8888";

// Runs a server through a variety of requests and a clean shutdown, and
// returns it (exited) for inspection.
std::unique_ptr<ServerProcess> exercised_server(TempDir& dir) {
  const auto keys_file = dir.write("keys", std::string(kFileKey) + "\n");
  auto server = ServerProcess::serve(
      {"--set", "auth.api_keys_file=" + keys_file.string(), "--set", "server.max_body_bytes=1KiB"},
      {{"API_KEY", std::string(kApiKey) + "," + kApiKey2},
       {"ADMIN_API_KEY", kAdminKey},
       {"CORS_ALLOWED_ORIGINS", "http://app.example"}});
  const std::uint16_t port = server->port();
  http_get(port, "/health");
  http_get(port, "/v1/nonexistent");                                       // 401
  http_get(port, "/v1/nonexistent", {{"Authorization", "Bearer wrong"}});  // 401
  http_get(port, "/v1/nonexistent", {{"Authorization", std::string("Bearer ") + kApiKey}});
  http_get(port, "/v1/nonexistent", {{"X-API-Key", kApiKey2}});
  http_get(port, "/v1/nonexistent", {{"X-API-Key", kAdminKey}});
  http_get(port, "/v1/nonexistent", {{"X-API-Key", kFileKey}});
  // A key in the query string must not reach the log through the path.
  http_get(port, std::string("/health?api_key=") + kApiKey2);
  http_post(port, "/health", "{}", {{"X-API-Key", kApiKey}});  // 405
  http_options(port, "/v1/nonexistent",
               {{"Origin", "http://app.example"}, {"Access-Control-Request-Method", "POST"}});
  {
    HttpConnection conn(port);
    conn.send(make_request("POST", "/v1/nonexistent", {{"X-API-Key", kApiKey}},
                           std::string(4096, 'x')));  // 413
    conn.try_read(2s);
  }
  {
    HttpConnection conn(port);
    conn.send("NOT HTTP AT ALL\r\n\r\n");  // 400
    conn.try_read(2s);
  }
  server->send_signal(SIGTERM);
  const auto status = server->wait_exit(5s);
  EXPECT_EQ(status, 0) << server->describe();
  return server;
}

class LogsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    try {
      server_ = exercised_server(*dir_);
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << error_; }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string error_;
};

TEST_F(LogsTest, EveryStdoutLineIsJsonWithTimeLevelMessage) {
  const std::string text = server_->stdout_text();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "the last line is incomplete";
  const auto lines = server_->log_lines();
  ASSERT_GE(lines.size(), 10u) << text;
  const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
  for (const std::string& line : lines) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON object: " << line;
    ASSERT_TRUE(j.contains("time") && j["time"].is_string()) << line;
    EXPECT_TRUE(is_iso8601_utc(j["time"].get<std::string>())) << line;
    ASSERT_TRUE(j.contains("level") && j["level"].is_string()) << line;
    EXPECT_TRUE(levels.count(j["level"].get<std::string>()) == 1) << line;
    ASSERT_TRUE(j.contains("message") && j["message"].is_string()) << line;
    EXPECT_FALSE(j["message"].get<std::string>().empty()) << line;
  }
}

TEST_F(LogsTest, StderrIsEmptyOnACleanRun) { EXPECT_EQ(server_->stderr_text(), ""); }

TEST_F(LogsTest, AccessLinesHaveRequestFields) {
  std::size_t access = 0;
  std::set<int> statuses;
  for (const std::string& line : server_->log_lines()) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || j.value("message", "") != "request") continue;
    ++access;
    ASSERT_TRUE(j.contains("request_id") && j["request_id"].is_string()) << line;
    EXPECT_FALSE(j["request_id"].get<std::string>().empty()) << line;
    ASSERT_TRUE(j.contains("route") && j["route"].is_string()) << line;
    ASSERT_TRUE(j.contains("status") && j["status"].is_number_integer()) << line;
    ASSERT_TRUE(j.contains("duration_ms") && j["duration_ms"].is_number()) << line;
    ASSERT_TRUE(j.contains("method") && j["method"].is_string()) << line;
    ASSERT_TRUE(j.contains("path") && j["path"].is_string()) << line;
    const int status = j["status"].get<int>();
    statuses.insert(status);
    EXPECT_EQ(j.value("level", ""), status >= 500   ? "error"
                                    : status >= 400 ? "warn"
                                                    : "info")
        << line;
    if (j["path"] == "/health" && j["method"] == "GET") {
      EXPECT_EQ(j["route"], "/health") << line;
    }
  }
  // health, 401, 404, 405, preflight 204, 413 (the 400 has no request context)
  EXPECT_GE(access, 10u);
  for (int s : {200, 204, 401, 404, 405, 413}) {
    EXPECT_EQ(statuses.count(s), 1u) << "no access line with status " << s;
  }
}

TEST_F(LogsTest, LifecycleIsLogged) {
  std::vector<std::string> messages;
  for (const std::string& line : server_->log_lines()) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) messages.push_back(j.value("message", ""));
  }
  auto index_of = [&](const std::string& m) {
    return std::find(messages.begin(), messages.end(), m) - messages.begin();
  };
  const auto n = static_cast<long>(messages.size());
  const long listening = index_of("listening");
  const long draining = index_of("draining");
  const long stopped = index_of("stopped");
  EXPECT_LT(listening, n);
  EXPECT_LT(draining, n);
  EXPECT_LT(stopped, n);
  EXPECT_LT(listening, draining);
  EXPECT_LT(draining, stopped);
  EXPECT_EQ(stopped, n - 1) << "\"stopped\" should be the last line";
}

TEST_F(LogsTest, NoKeyValueAppearsAnywhereInTheOutput) {
  const std::string all = server_->stdout_text() + server_->stderr_text();
  for (const char* secret : {kApiKey, kApiKey2, kAdminKey, kFileKey}) {
    EXPECT_EQ(all.find(secret), std::string::npos) << "found " << secret << " in the logs";
  }
  // Not even a recognisable prefix of one.
  EXPECT_EQ(all.find("sk-live-"), std::string::npos);
  EXPECT_EQ(all.find("sk-admin-"), std::string::npos);
}

TEST(LogsLevelTest, AccessLogCanBeTurnedOff) {
  auto server = ServerProcess::serve({}, {{"SCRIBEPOD_LOG_ACCESS_LOG", "false"}});
  http_get(server->port(), "/health", {{"X-Request-Id", "should-not-be-logged"}});
  http_get(server->port(), "/v1/nonexistent", {{"X-Request-Id", "should-not-be-logged"}});
  server->send_signal(SIGTERM);
  ASSERT_EQ(server->wait_exit(5s), 0) << server->describe();
  EXPECT_EQ(server->stdout_text().find("should-not-be-logged"), std::string::npos);
  EXPECT_EQ(server->stdout_text().find("\"message\":\"request\""), std::string::npos);
}

}  // namespace
}  // namespace scribepod::testing
