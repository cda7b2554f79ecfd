// CORS: exact-origin allowlist, preflight, and the headers browsers need.
#include <gtest/gtest.h>
#include <strings.h>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

constexpr const char* kAllowed = "http://allowed.example";
constexpr const char* kAllowedLocal = "http://localhost:3000";
constexpr const char* kEvil = "http://evil.example";

bool contains_token(const std::string& list, std::string_view token) {
  std::size_t i = 0;
  while (i <= list.size()) {
    std::size_t j = list.find(',', i);
    if (j == std::string::npos) j = list.size();
    std::string_view item(list.data() + i, j - i);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.size() == token.size() && strncasecmp(item.data(), token.data(), token.size()) == 0) {
      return true;
    }
    i = j + 1;
  }
  return false;
}

class CorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = try_serve({}, {{"CORS_ALLOWED_ORIGINS", std::string(kAllowed) + "," + kAllowedLocal}},
                        error_);
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_NE(server_, nullptr) << error_; }
  static std::uint16_t port() { return server_->port(); }

  static HttpResponse preflight(const std::string& origin,
                                std::string_view target = "/conversation") {
    return http_options(port(), target,
                        {{"Origin", origin},
                         {"Access-Control-Request-Method", "POST"},
                         {"Access-Control-Request-Headers", "content-type, x-session-id"}});
  }

  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string error_;
};

TEST_F(CorsTest, AllowedOriginIsEchoedWithExposeHeadersAndVary) {
  for (const char* origin : {kAllowed, kAllowedLocal}) {
    const HttpResponse res = http_get(port(), "/health", {{"Origin", origin}});
    ASSERT_EQ(res.status, 200u);
    EXPECT_EQ(res.header("Access-Control-Allow-Origin"), origin) << res.head_text();
    EXPECT_TRUE(contains_token(res.header("Access-Control-Expose-Headers"), "X-Session-Id"))
        << res.head_text();
    EXPECT_TRUE(contains_token(res.header("Access-Control-Expose-Headers"), "X-Request-Id"))
        << res.head_text();
    EXPECT_TRUE(contains_token(res.header("Vary"), "Origin")) << res.head_text();
  }
}

TEST_F(CorsTest, DisallowedOriginGetsNoAllowOrigin) {
  const HttpResponse res = http_get(port(), "/health", {{"Origin", kEvil}});
  EXPECT_EQ(res.status, 200u);
  EXPECT_FALSE(res.has("Access-Control-Allow-Origin")) << res.head_text();
  EXPECT_FALSE(res.has("Access-Control-Expose-Headers")) << res.head_text();
  // Caches must still key on Origin, or an allowed answer could be reused.
  EXPECT_TRUE(contains_token(res.header("Vary"), "Origin")) << res.head_text();
}

TEST_F(CorsTest, OriginMatchIsExact) {
  for (const char* origin :
       {"https://allowed.example", "http://allowed.example:8080", "http://sub.allowed.example",
        "http://allowed.example.evil.example", "http://allowed.example/", "null", "*"}) {
    const HttpResponse res = http_get(port(), "/health", {{"Origin", origin}});
    EXPECT_FALSE(res.has("Access-Control-Allow-Origin")) << "origin " << origin << " was allowed\n"
                                                         << res.head_text();
  }
}

TEST_F(CorsTest, NoOriginMeansNoCorsHeaders) {
  const HttpResponse res = http_get(port(), "/health");
  EXPECT_EQ(res.status, 200u);
  EXPECT_FALSE(res.has("Access-Control-Allow-Origin")) << res.head_text();
  EXPECT_FALSE(res.has("Access-Control-Expose-Headers")) << res.head_text();
  EXPECT_FALSE(res.has("Access-Control-Allow-Methods")) << res.head_text();
}

TEST_F(CorsTest, PreflightFromAllowedOriginIs204) {
  const HttpResponse res = preflight(kAllowed);
  ASSERT_EQ(res.status, 204u) << res.head_text() << res.body;
  EXPECT_EQ(res.body, "");
  EXPECT_EQ(res.header("Access-Control-Allow-Origin"), kAllowed) << res.head_text();
  const std::string methods = res.header("Access-Control-Allow-Methods");
  for (const char* m : {"GET", "POST", "OPTIONS"}) {
    EXPECT_TRUE(contains_token(methods, m)) << m << " missing in " << methods;
  }
  const std::string headers = res.header("Access-Control-Allow-Headers");
  for (const char* h :
       {"Content-Type", "Authorization", "X-API-Key", "X-Session-Id", "Idempotency-Key"}) {
    EXPECT_TRUE(contains_token(headers, h)) << h << " missing in " << headers;
  }
  EXPECT_EQ(res.header("Access-Control-Max-Age"), "600") << res.head_text();  // default 10m
  EXPECT_TRUE(contains_token(res.header("Vary"), "Origin")) << res.head_text();
}

TEST_F(CorsTest, PreflightOnUnknownPathStillAnswered) {
  // Preflight is about the origin, not the route: the real request then
  // gets its own 404.
  const HttpResponse res = preflight(kAllowedLocal, "/v1/audio/transcriptions");
  EXPECT_EQ(res.status, 204u) << res.head_text() << res.body;
  EXPECT_EQ(res.header("Access-Control-Allow-Origin"), kAllowedLocal);
}

TEST_F(CorsTest, PreflightFromDisallowedOriginIs403) {
  const HttpResponse res = preflight(kEvil);
  EXPECT_TRUE(IsJsonError(res, 403, "forbidden"));
  EXPECT_FALSE(res.has("Access-Control-Allow-Origin")) << res.head_text();
  EXPECT_FALSE(res.has("Access-Control-Allow-Methods")) << res.head_text();
}

TEST_F(CorsTest, OptionsWithoutRequestMethodIsNotAPreflight) {
  const HttpResponse res = http_options(port(), "/health", {{"Origin", kAllowed}});
  EXPECT_TRUE(IsJsonError(res, 405, "method_not_allowed"));
  EXPECT_FALSE(res.has("Access-Control-Allow-Methods")) << res.head_text();
  // An ordinary cross-origin response from an allowed origin.
  EXPECT_EQ(res.header("Access-Control-Allow-Origin"), kAllowed);
}

TEST_F(CorsTest, ErrorResponsesCarryCorsHeadersForAllowedOrigins) {
  // Otherwise a browser page cannot read the JSON error.
  const HttpResponse res = http_get(port(), "/v1/nonexistent", {{"Origin", kAllowed}});
  EXPECT_TRUE(IsJsonError(res, 404, "not_found"));
  EXPECT_EQ(res.header("Access-Control-Allow-Origin"), kAllowed) << res.head_text();
}

TEST(CorsDefaultTest, NoAllowlistMeansNoCrossOriginAccess) {
  auto server = ServerProcess::serve();
  const HttpResponse get = http_get(server->port(), "/health", {{"Origin", kAllowed}});
  EXPECT_EQ(get.status, 200u);
  EXPECT_FALSE(get.has("Access-Control-Allow-Origin")) << get.head_text();
  const HttpResponse pre = http_options(
      server->port(), "/health", {{"Origin", kAllowed}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_TRUE(IsJsonError(pre, 403, "forbidden"));
}

}  // namespace
}  // namespace scribepod::testing
