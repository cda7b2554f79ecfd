// API keys: the 401 matrix, Bearer and X-API-Key, keys from API_KEY and from
// a keys file, public routes, and the refusal to listen publicly without
// keys.
#include <gtest/gtest.h>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

constexpr const char* kKeyOne = "alpha-key-0001";
constexpr const char* kKeyTwo = "bravo-key-0002";
constexpr const char* kFileKey = "charlie-key-0003";
constexpr const char* kFileKeyPadded = "delta-key-0004";
constexpr const char* kAdminKey = "admin-key-0005";
constexpr const char* kOrigin = "http://app.example";
// Not a route, and not public: authentication is decided before routing.
constexpr const char* kPrivate = "/v1/nonexistent";

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    const auto keys_file = dir_->write(
        "keys.txt", std::string("# team keys\n\n") + kFileKey + "\n  " + kFileKeyPadded + "  \r\n");
    server_ = try_serve({"--set", "auth.api_keys_file=" + keys_file.string()},
                        {{"API_KEY", std::string(kKeyOne) + "," + kKeyTwo},
                         {"ADMIN_API_KEY", kAdminKey},
                         {"CORS_ALLOWED_ORIGINS", kOrigin}},
                        error_);
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << error_; }
  static std::uint16_t port() { return server_->port(); }

  static HttpResponse get_with(const std::string& header, const std::string& value) {
    return http_get(port(), kPrivate, {{header, value}});
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string error_;
};

TEST_F(AuthTest, MissingKeyIs401WithWwwAuthenticate) {
  const HttpResponse res = http_get(port(), kPrivate);
  EXPECT_TRUE(IsJsonError(res, 401, "unauthorized"));
  EXPECT_EQ(res.header("WWW-Authenticate").rfind("Bearer", 0), 0u) << res.head_text();
  EXPECT_EQ(res.json().value("retryable", true), false);
  EXPECT_FALSE(res.header("X-Request-Id").empty()) << res.head_text();
}

TEST_F(AuthTest, MissingKeyIs401ForPostToo) {
  const HttpResponse res = http_post(port(), "/generate_thots", R"({"conversation_speech":[]})",
                                     {{"Content-Type", "application/json"}});
  EXPECT_TRUE(IsJsonError(res, 401, "unauthorized"));
}

TEST_F(AuthTest, WrongKeyIs401) {
  for (const auto& [h, v] : Headers{{"Authorization", "Bearer not-a-key"},
                                    {"X-API-Key", "not-a-key"},
                                    {"Authorization", std::string("Bearer ") + kKeyOne + "x"},
                                    {"Authorization", "Bearer alpha-key-000"},
                                    {"X-API-Key", std::string(kKeyOne) + "," + kKeyTwo},
                                    {"X-API-Key", "# team keys"},
                                    {"Authorization", "Bearer "},
                                    {"X-API-Key", ""}}) {
    const HttpResponse res = get_with(h, v);
    EXPECT_TRUE(IsJsonError(res, 401, "unauthorized")) << h << ": " << v;
    EXPECT_EQ(res.header("WWW-Authenticate").rfind("Bearer", 0), 0u) << res.head_text();
  }
}

TEST_F(AuthTest, OtherAuthorizationSchemesAreRejected) {
  // base64("user:alpha-key-0001")
  const HttpResponse basic = get_with("Authorization", "Basic dXNlcjphbHBoYS1rZXktMDAwMQ==");
  EXPECT_TRUE(IsJsonError(basic, 401, "unauthorized"));
  const HttpResponse bare = get_with("Authorization", kKeyOne);
  EXPECT_TRUE(IsJsonError(bare, 401, "unauthorized"));
}

TEST_F(AuthTest, BearerKeysFromApiKeyPass) {
  for (const char* key : {kKeyOne, kKeyTwo}) {
    const HttpResponse res = get_with("Authorization", std::string("Bearer ") + key);
    EXPECT_TRUE(IsJsonError(res, 404, "not_found")) << key;
    EXPECT_FALSE(res.has("WWW-Authenticate")) << res.head_text();
  }
}

TEST_F(AuthTest, BearerSchemeIsCaseInsensitive) {
  const HttpResponse res = get_with("Authorization", std::string("bearer ") + kKeyTwo);
  EXPECT_TRUE(IsJsonError(res, 404, "not_found"));
}

TEST_F(AuthTest, XApiKeyPasses) {
  for (const char* key : {kKeyOne, kKeyTwo}) {
    EXPECT_TRUE(IsJsonError(get_with("X-API-Key", key), 404, "not_found")) << key;
  }
}

TEST_F(AuthTest, KeysFromKeysFilePass) {
  EXPECT_TRUE(
      IsJsonError(get_with("Authorization", std::string("Bearer ") + kFileKey), 404, "not_found"));
  // Surrounding whitespace in the file is not part of the key.
  EXPECT_TRUE(IsJsonError(get_with("X-API-Key", kFileKeyPadded), 404, "not_found"));
}

TEST_F(AuthTest, AdminKeyAlsoWorksAsAnApiKey) {
  EXPECT_TRUE(IsJsonError(get_with("X-API-Key", kAdminKey), 404, "not_found"));
}

TEST_F(AuthTest, PublicRoutesNeedNoKey) {
  EXPECT_EQ(http_get(port(), "/health").status, 200u);
  EXPECT_EQ(http_get(port(), "/ready").status, 200u);
  // A wrong key on a public route does not turn it into a 401.
  EXPECT_EQ(http_get(port(), "/health", {{"X-API-Key", "not-a-key"}}).status, 200u);
}

TEST_F(AuthTest, PreflightNeedsNoKeyAnd401CarriesCors) {
  // Browsers send preflights without credentials.
  const HttpResponse pre = http_options(port(), kPrivate,
                                        {{"Origin", kOrigin},
                                         {"Access-Control-Request-Method", "GET"},
                                         {"Access-Control-Request-Headers", "authorization"}});
  EXPECT_EQ(pre.status, 204u) << pre.head_text() << pre.body;
  // And the page can read why its request was refused.
  const HttpResponse res = http_get(port(), kPrivate, {{"Origin", kOrigin}});
  EXPECT_TRUE(IsJsonError(res, 401, "unauthorized"));
  EXPECT_EQ(res.header("Access-Control-Allow-Origin"), kOrigin) << res.head_text();
}

TEST_F(AuthTest, KeyUsageIsLoggedByFingerprintOnly) {
  const HttpResponse res =
      http_get(port(), kPrivate, {{"X-API-Key", kKeyTwo}, {"X-Request-Id", "auth-fp-check"}});
  ASSERT_EQ(res.status, 404u);
  const auto line = server_->wait_for_log({"\"request_id\":\"auth-fp-check\""});
  ASSERT_TRUE(line.has_value()) << server_->describe();
  const auto j = nlohmann::json::parse(*line, nullptr, false);
  ASSERT_TRUE(j.is_object()) << *line;
  const std::string fp = j.value("client_key", "");
  EXPECT_FALSE(fp.empty()) << *line;
  EXPECT_EQ(line->find(kKeyTwo), std::string::npos) << *line;
}

// --- exposure ---------------------------------------------------------------

TEST(AuthExposureTest, RefusesNonLoopbackHostWithoutKeys) {
  const CliResult r =
      run_cli({"serve", "--host", "0.0.0.0", "--port", std::to_string(pick_free_port())});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("API_KEY"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-unauthenticated"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("\"message\":\"listening\""), std::string::npos) << r.out;
}

TEST(AuthExposureTest, AllowUnauthenticatedStartsOnNonLoopbackHost) {
  auto server = ServerProcess::serve({"--host", "0.0.0.0", "--allow-unauthenticated"});
  EXPECT_EQ(http_get(server->port(), "/health").status, 200u);
  // No keys configured: nothing needs one.
  EXPECT_TRUE(IsJsonError(http_get(server->port(), kPrivate), 404, "not_found"));
  EXPECT_TRUE(server->wait_for_log({"\"message\":\"listening\"", "\"host\":\"0.0.0.0\""}, 1s))
      << server->describe();
}

TEST(AuthExposureTest, NonLoopbackHostWithKeysStarts) {
  auto server = ServerProcess::serve({"--host", "0.0.0.0"}, {{"API_KEY", kKeyOne}});
  EXPECT_TRUE(IsJsonError(http_get(server->port(), kPrivate), 401, "unauthorized"));
  EXPECT_TRUE(
      IsJsonError(http_get(server->port(), kPrivate, {{"X-API-Key", kKeyOne}}), 404, "not_found"));
}

TEST(AuthExposureTest, LoopbackWithoutKeysServesOpenly) {
  auto server = ServerProcess::serve();
  EXPECT_TRUE(IsJsonError(http_get(server->port(), kPrivate), 404, "not_found"));
  EXPECT_TRUE(server->wait_for_log({"\"message\":\"scribepod starting\"", "\"auth\":\"off\""}, 1s))
      << server->describe();
}

}  // namespace
}  // namespace scribepod::testing
