#include "http/router.h"

#include <gtest/gtest.h>

namespace scribepod::http {
namespace {

Handler named(std::string name) {
  return [name](Request& req, Context&) -> boost::asio::awaitable<Result<Response>> {
    co_return make_response(req, StatusCode::ok, name, "text/plain");
  };
}

TEST(RouterTest, MatchesLiteralAndParameterRoutes) {
  Router r;
  r.add(Verb::get, "/health", named("health"));
  r.add(Verb::get, "/v1/sessions/{id}", named("session"));
  r.add(Verb::get, "/v1/podcasts/{id}/audio", named("audio"));

  auto m = r.match(Verb::get, "/health");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(*m.pattern, "/health");

  m = r.match(Verb::get, "/v1/sessions/abc%2Ddef?x=1");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(*m.pattern, "/v1/sessions/{id}");
  EXPECT_EQ(m.params.at("id"), "abc-def");

  m = r.match(Verb::get, "/v1/podcasts/7/audio");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.params.at("id"), "7");
}

TEST(RouterTest, DistinguishesNotFoundFromMethodNotAllowed) {
  Router r;
  r.add(Verb::get, "/health", named("h"));
  r.add(Verb::post, "/health", named("p"));
  r.add(Verb::get, "/x", named("x"));

  auto m = r.match(Verb::delete_, "/health");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_matched);
  EXPECT_EQ(m.allowed_methods, "GET, HEAD, POST");

  m = r.match(Verb::get, "/missing");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_FALSE(m.path_matched);
}

TEST(RouterTest, HeadIsServedByGet) {
  Router r;
  r.add(Verb::get, "/health", named("h"));
  EXPECT_NE(r.match(Verb::head, "/health").handler, nullptr);
}

TEST(RouterTest, TailParameterTakesTheRest) {
  Router r;
  r.add(Verb::get, "/assets/{path...}", named("a"));
  auto m = r.match(Verb::get, "/assets/js/app-123.js");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.params.at("path"), "js/app-123.js");
  EXPECT_EQ(r.match(Verb::get, "/assets").handler, nullptr);
  // An encoded slash must not smuggle a separator.
  EXPECT_EQ(r.match(Verb::get, "/assets/a%2F..%2Fb").handler, nullptr);
}

TEST(RouterTest, RejectsMalformedPatternsAndDuplicates) {
  Router r;
  EXPECT_THROW(r.add(Verb::get, "health", named("x")), std::invalid_argument);
  EXPECT_THROW(r.add(Verb::get, "/a/{id", named("x")), std::invalid_argument);
  r.add(Verb::get, "/a", named("x"));
  EXPECT_THROW(r.add(Verb::get, "/a", named("y")), std::invalid_argument);
}

TEST(RouterTest, ParameterSegmentsRejectBadEscapes) {
  Router r;
  r.add(Verb::get, "/s/{id}", named("s"));
  EXPECT_EQ(r.match(Verb::get, "/s/%zz").handler, nullptr);
  EXPECT_EQ(r.match(Verb::get, "/s/%00").handler, nullptr);
  EXPECT_EQ(r.match(Verb::get, "/s/%4").handler, nullptr);
}

TEST(PercentDecodeTest, DecodesAndValidates) {
  std::string out;
  EXPECT_TRUE(percent_decode("a%20b%2fc", out));
  EXPECT_EQ(out, "a b/c");
  EXPECT_TRUE(percent_decode("a+b", out, true));
  EXPECT_EQ(out, "a b");
  EXPECT_TRUE(percent_decode("a+b", out, false));
  EXPECT_EQ(out, "a+b");
  EXPECT_FALSE(percent_decode("%", out));
  EXPECT_FALSE(percent_decode("%a", out));
  EXPECT_FALSE(percent_decode("%g0", out));
}

TEST(QueryParamTest, FindsAndDecodes) {
  EXPECT_EQ(query_param("/conversation?chunk=2&x=y", "chunk"), "2");
  EXPECT_EQ(query_param("/c?x=a%20b", "x"), "a b");
  EXPECT_EQ(query_param("/c?flag", "flag"), "");
  EXPECT_EQ(query_param("/c?chunk=1", "chunky"), std::nullopt);
  EXPECT_EQ(query_param("/c", "chunk"), std::nullopt);
  EXPECT_EQ(query_param("/c?x=%zz", "x"), std::nullopt);
}

}  // namespace
}  // namespace scribepod::http
