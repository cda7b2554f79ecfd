// The middleware chain in process: each middleware alone and the chain's
// ordering guarantees (after() runs on rejections too).
#include "http/middleware.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "http/access_log.h"
#include "http/api_key_auth.h"
#include "http/cors.h"
#include "http/rate_limiter.h"
#include "http/request_id.h"

namespace scribepod::http {
namespace {

Request make_request(Verb verb, std::string target,
                     std::initializer_list<std::pair<std::string, std::string>> headers = {}) {
  Request req{verb, target, 11};
  for (const auto& [k, v] : headers) req.set(k, v);
  return req;
}

class ChainTest : public ::testing::Test {
 protected:
  ChainTest() {
    router_.add(
        Verb::get, "/health",
        [](Request& req, Context&) -> boost::asio::awaitable<Result<Response>> {
          co_return make_response(req, StatusCode::ok, "ok", "text/plain");
        },
        RouteOptions{.public_route = true, .rate_limit_exempt = true});
    router_.add(Verb::get, "/private",
                [](Request& req, Context&) -> boost::asio::awaitable<Result<Response>> {
                  co_return make_response(req, StatusCode::ok, "secret stuff", "text/plain");
                });
    router_.add(
        Verb::get, "/admin",
        [](Request& req, Context&) -> boost::asio::awaitable<Result<Response>> {
          co_return make_response(req, StatusCode::ok, "admin", "text/plain");
        },
        RouteOptions{.admin_only = true});
    router_.add(Verb::get, "/boom",
                [](Request&, Context&) -> boost::asio::awaitable<Result<Response>> {
                  throw std::runtime_error("secret internal detail /etc/passwd");
                  co_return Error::internal("unreachable");
                });
  }

  void build(std::vector<std::string> keys, std::string admin = "", double client_burst = 3.0) {
    per_client_ = std::make_unique<TokenBucketLimiter>(1.0, client_burst, 1000);
    per_session_ = std::make_unique<TokenBucketLimiter>(1.0, 2.0, 1000);
    chain_ = MiddlewareChain{};
    chain_.add(std::make_unique<RequestIdMiddleware>());
    chain_.add(std::make_unique<AccessLogMiddleware>());
    chain_.add(std::make_unique<CorsMiddleware>(std::vector<std::string>{"http://ok.example"},
                                                std::chrono::seconds(600)));
    chain_.add(std::make_unique<ApiKeyMiddleware>(keys, admin));
    chain_.add(std::make_unique<RateLimitMiddleware>(*per_client_, *per_session_));
  }

  Response run(Request req, bool production = false) {
    boost::asio::io_context ioc;
    Context ctx;
    ctx.client_ip = "127.0.0.1";
    ctx.start = std::chrono::steady_clock::now();
    ctx.production = production;
    const RouteMatch match = router_.match(req.method(), req.target());
    if (match.pattern) ctx.route = *match.pattern;
    ctx.options = match.options;
    auto fut = boost::asio::co_spawn(ioc, chain_.run(req, ctx, match), boost::asio::use_future);
    ioc.run();
    return fut.get();
  }

  Router router_;
  MiddlewareChain chain_;
  std::unique_ptr<TokenBucketLimiter> per_client_;
  std::unique_ptr<TokenBucketLimiter> per_session_;
};

TEST_F(ChainTest, RequestIdIsGeneratedOrKept) {
  build({});
  Response a = run(make_request(Verb::get, "/health"));
  EXPECT_EQ(a["X-Request-Id"].size(), 32u);
  Response b = run(make_request(Verb::get, "/health", {{"X-Request-Id", "trace-42.a_b"}}));
  EXPECT_EQ(b["X-Request-Id"], "trace-42.a_b");
  Response c = run(make_request(Verb::get, "/health", {{"X-Request-Id", "bad id\x01"}}));
  EXPECT_NE(c["X-Request-Id"], "bad id\x01");
  EXPECT_TRUE(valid_request_id(c["X-Request-Id"]));
}

TEST_F(ChainTest, CorsAllowedOriginIsEchoedAndSessionHeaderExposed) {
  build({});
  Response res = run(make_request(Verb::get, "/health", {{"Origin", "http://ok.example"}}));
  EXPECT_EQ(res[boost::beast::http::field::access_control_allow_origin], "http://ok.example");
  EXPECT_NE(res[boost::beast::http::field::access_control_expose_headers].find("X-Session-Id"),
            std::string_view::npos);
  EXPECT_EQ(res[boost::beast::http::field::vary], "Origin");
}

TEST_F(ChainTest, CorsDisallowedOriginGetsNoAllowHeader) {
  build({});
  Response res = run(make_request(Verb::get, "/health", {{"Origin", "http://evil.example"}}));
  EXPECT_EQ(res.result(), StatusCode::ok);
  EXPECT_EQ(res.find(boost::beast::http::field::access_control_allow_origin), res.end());
  // Exact match only: no prefix or suffix tricks.
  res = run(make_request(Verb::get, "/health", {{"Origin", "http://ok.example.evil.com"}}));
  EXPECT_EQ(res.find(boost::beast::http::field::access_control_allow_origin), res.end());
}

TEST_F(ChainTest, PreflightAllowedAnsweredBeforeAuth) {
  build({"k1"});
  Response res = run(make_request(Verb::options, "/private",
                                  {{"Origin", "http://ok.example"},
                                   {"Access-Control-Request-Method", "POST"},
                                   {"Access-Control-Request-Headers", "x-session-id"}}));
  EXPECT_EQ(res.result(), StatusCode::no_content);
  EXPECT_NE(res[boost::beast::http::field::access_control_allow_headers].find("X-Session-Id"),
            std::string_view::npos);
  EXPECT_EQ(res[boost::beast::http::field::access_control_allow_origin], "http://ok.example");
}

TEST_F(ChainTest, PreflightFromDisallowedOriginIs403) {
  build({});
  Response res = run(
      make_request(Verb::options, "/private",
                   {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "POST"}}));
  EXPECT_EQ(res.result(), StatusCode::forbidden);
  EXPECT_EQ(res.find(boost::beast::http::field::access_control_allow_origin), res.end());
}

TEST_F(ChainTest, AuthMatrix) {
  build({"key-one", "key-two"});
  EXPECT_EQ(run(make_request(Verb::get, "/private")).result(), StatusCode::unauthorized);
  EXPECT_EQ(run(make_request(Verb::get, "/private", {{"Authorization", "Bearer nope"}})).result(),
            StatusCode::unauthorized);
  EXPECT_EQ(
      run(make_request(Verb::get, "/private", {{"Authorization", "Bearer key-one"}})).result(),
      StatusCode::ok);
  EXPECT_EQ(run(make_request(Verb::get, "/private", {{"X-API-Key", "key-two"}})).result(),
            StatusCode::ok);
  // Prefix of a valid key is not a valid key.
  EXPECT_EQ(run(make_request(Verb::get, "/private", {{"X-API-Key", "key-"}})).result(),
            StatusCode::unauthorized);
  EXPECT_EQ(run(make_request(Verb::get, "/health")).result(), StatusCode::ok);
  Response denied = run(make_request(Verb::get, "/private"));
  EXPECT_EQ(denied[boost::beast::http::field::www_authenticate], "Bearer realm=\"scribepod\"");
  EXPECT_FALSE(denied["X-Request-Id"].empty());  // after() ran on the rejection
}

TEST_F(ChainTest, AdminRoutesNeedTheAdminKey) {
  build({"user"}, "boss");
  EXPECT_EQ(run(make_request(Verb::get, "/admin")).result(), StatusCode::unauthorized);
  EXPECT_EQ(run(make_request(Verb::get, "/admin", {{"X-API-Key", "user"}})).result(),
            StatusCode::forbidden);
  EXPECT_EQ(run(make_request(Verb::get, "/admin", {{"X-API-Key", "boss"}})).result(),
            StatusCode::ok);
  // The admin key also works as an ordinary key.
  EXPECT_EQ(run(make_request(Verb::get, "/private", {{"X-API-Key", "boss"}})).result(),
            StatusCode::ok);
}

TEST_F(ChainTest, AdminRoutesClosedWithoutAdminKey) {
  build({});
  EXPECT_EQ(run(make_request(Verb::get, "/admin")).result(), StatusCode::forbidden);
}

TEST_F(ChainTest, RateLimitPerClientWithRetryAfterAndExemptProbes) {
  build({});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(run(make_request(Verb::get, "/private")).result(), StatusCode::ok) << i;
  }
  Response limited = run(make_request(Verb::get, "/private", {{"Origin", "http://ok.example"}}));
  EXPECT_EQ(limited.result(), StatusCode::too_many_requests);
  EXPECT_EQ(limited[boost::beast::http::field::retry_after], "1");
  const auto body = nlohmann::json::parse(limited.body());
  EXPECT_EQ(body["error"], "rate_limited");
  EXPECT_EQ(body["retryable"], true);
  EXPECT_EQ(limited[boost::beast::http::field::access_control_allow_origin], "http://ok.example");
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(run(make_request(Verb::get, "/health")).result(), StatusCode::ok);
  }
}

TEST_F(ChainTest, RateLimitPerSession) {
  build({}, "", /*client_burst=*/1000.0);
  EXPECT_EQ(run(make_request(Verb::get, "/private", {{"X-Session-Id", "s1"}})).result(),
            StatusCode::ok);
  EXPECT_EQ(run(make_request(Verb::get, "/private", {{"X-Session-Id", "s1"}})).result(),
            StatusCode::ok);
  EXPECT_EQ(run(make_request(Verb::get, "/private", {{"X-Session-Id", "s1"}})).result(),
            StatusCode::too_many_requests);
  EXPECT_EQ(run(make_request(Verb::get, "/private", {{"X-Session-Id", "s2"}})).result(),
            StatusCode::ok);
}

TEST_F(ChainTest, HandlerExceptionBecomes500WithoutInternalsInProduction) {
  build({});
  Response res = run(make_request(Verb::get, "/boom"), /*production=*/true);
  EXPECT_EQ(res.result(), StatusCode::internal_server_error);
  EXPECT_EQ(res.body().find("passwd"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(res.body())["message"], "internal server error");
  Response dev = run(make_request(Verb::get, "/boom"), /*production=*/false);
  EXPECT_NE(dev.body().find("secret internal detail"), std::string::npos);
}

TEST_F(ChainTest, UnknownPathAndMethod) {
  build({});
  Response nf = run(make_request(Verb::get, "/nope"));
  EXPECT_EQ(nf.result(), StatusCode::not_found);
  Response na = run(make_request(Verb::post, "/health"));
  EXPECT_EQ(na.result(), StatusCode::method_not_allowed);
  EXPECT_EQ(na[boost::beast::http::field::allow], "GET, HEAD");
  const auto body = nlohmann::json::parse(na.body());
  for (const char* k : {"error", "message", "retryable", "timestamp"})
    EXPECT_TRUE(body.contains(k)) << k;
}

TEST(ApiKeyTest, ConstantTimeComparisonMatchesExactly) {
  const std::vector<KeyDigest> keys{sha256("alpha"), sha256("beta")};
  EXPECT_TRUE(key_matches(keys, "alpha"));
  EXPECT_TRUE(key_matches(keys, "beta"));
  EXPECT_FALSE(key_matches(keys, "alph"));
  EXPECT_FALSE(key_matches(keys, "alphaa"));
  EXPECT_FALSE(key_matches(keys, ""));
  EXPECT_FALSE(key_matches({}, "alpha"));
}

TEST(ApiKeyTest, PresentedKeyFromEitherHeader) {
  Request a{Verb::get, "/", 11};
  a.set(boost::beast::http::field::authorization, "bearer  tok ");
  EXPECT_EQ(presented_key(a), "tok");
  Request b{Verb::get, "/", 11};
  b.set("X-API-Key", "k2");
  EXPECT_EQ(presented_key(b), "k2");
  Request c{Verb::get, "/", 11};
  c.set(boost::beast::http::field::authorization, "Basic dXNlcjpwYXNz");
  EXPECT_EQ(presented_key(c), "");
}

}  // namespace
}  // namespace scribepod::http
