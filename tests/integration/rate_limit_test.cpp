// Rate limits: token buckets per client (API key + IP) and per session, with
// 429 + Retry-After; /health and /ready are exempt. Each test gets its own
// server so buckets never carry over.
#include <gtest/gtest.h>

#include <thread>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

constexpr const char* kPath = "/v1/nonexistent";

TEST(RateLimitTest, BurstThen429WithRetryAfter) {
  auto server = ServerProcess::serve({}, {{"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_RPS", "0.5"},
                                          {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_BURST", "3"}});
  HttpConnection conn(server->port());
  for (int i = 0; i < 3; ++i) {
    const HttpResponse res = conn.roundtrip(make_request("GET", kPath));
    EXPECT_EQ(res.status, 404u) << "request " << i << " of the burst\n" << res.head_text();
  }
  const HttpResponse limited = conn.roundtrip(make_request("GET", kPath));
  ASSERT_TRUE(IsJsonError(limited, 429, "rate_limited"));
  EXPECT_EQ(limited.json().value("retryable", false), true) << limited.body;
  // 0.5 tokens/s with the bucket empty: the next token is 2 s away.
  EXPECT_EQ(limited.header("Retry-After"), "2") << limited.head_text();
  EXPECT_FALSE(limited.header("X-Request-Id").empty()) << limited.head_text();
  EXPECT_TRUE(limited.keep_alive) << "a 429 need not cost the connection";
  // Still limited on a new connection from the same client.
  EXPECT_EQ(http_get(server->port(), kPath).status, 429u);
}

TEST(RateLimitTest, HealthAndReadyAreNeverLimited) {
  auto server = ServerProcess::serve({}, {{"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_RPS", "0.5"},
                                          {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_BURST", "2"}});
  HttpConnection conn(server->port());
  // Exhaust the bucket first.
  for (int i = 0; i < 3; ++i) conn.roundtrip(make_request("GET", kPath));
  ASSERT_EQ(conn.roundtrip(make_request("GET", kPath)).status, 429u);
  for (int i = 0; i < 30; ++i) {
    const char* target = i % 2 == 0 ? "/health" : "/ready";
    const HttpResponse res = conn.roundtrip(make_request("GET", target));
    ASSERT_EQ(res.status, 200u) << target << " request " << i << "\n" << res.head_text();
    EXPECT_FALSE(res.has("Retry-After"));
  }
}

TEST(RateLimitTest, TokensRefill) {
  auto server = ServerProcess::serve({}, {{"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_RPS", "10"},
                                          {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_BURST", "2"}});
  HttpConnection conn(server->port());
  EXPECT_EQ(conn.roundtrip(make_request("GET", kPath)).status, 404u);
  EXPECT_EQ(conn.roundtrip(make_request("GET", kPath)).status, 404u);
  const HttpResponse limited = conn.roundtrip(make_request("GET", kPath));
  ASSERT_EQ(limited.status, 429u);
  EXPECT_EQ(limited.header("Retry-After"), "1") << limited.head_text();  // never 0
  std::this_thread::sleep_for(250ms);                                    // 10/s: two tokens back
  EXPECT_EQ(conn.roundtrip(make_request("GET", kPath)).status, 404u);
}

TEST(RateLimitTest, PerSessionLimitIsSeparate) {
  auto server = ServerProcess::serve({}, {{"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_BURST", "100"},
                                          {"SCRIBEPOD_RATE_LIMIT_PER_SESSION_RPS", "0.5"},
                                          {"SCRIBEPOD_RATE_LIMIT_PER_SESSION_BURST", "2"}});
  const Headers a{{"X-Session-Id", "6f1c1f4e-8a7b-4c1d-9e2f-0a1b2c3d4e5f"}};
  const Headers b{{"X-Session-Id", "0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70"}};
  HttpConnection conn(server->port());
  EXPECT_EQ(conn.roundtrip(make_request("GET", kPath, a)).status, 404u);
  EXPECT_EQ(conn.roundtrip(make_request("GET", kPath, a)).status, 404u);
  const HttpResponse limited = conn.roundtrip(make_request("GET", kPath, a));
  ASSERT_TRUE(IsJsonError(limited, 429, "rate_limited"));
  EXPECT_NE(limited.json().value("message", "").find("session"), std::string::npos) << limited.body;
  EXPECT_FALSE(limited.header("Retry-After").empty());
  // Another session and no session are unaffected.
  EXPECT_EQ(conn.roundtrip(make_request("GET", kPath, b)).status, 404u);
  EXPECT_EQ(conn.roundtrip(make_request("GET", kPath)).status, 404u);
}

TEST(RateLimitTest, EachApiKeyHasItsOwnBucket) {
  auto server = ServerProcess::serve({}, {{"API_KEY", "key-one-1111,key-two-2222"},
                                          {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_RPS", "0.5"},
                                          {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_BURST", "2"}});
  const Headers one{{"X-API-Key", "key-one-1111"}};
  const Headers two{{"X-API-Key", "key-two-2222"}};
  HttpConnection conn(server->port());
  EXPECT_EQ(conn.roundtrip(make_request("GET", kPath, one)).status, 404u);
  EXPECT_EQ(conn.roundtrip(make_request("GET", kPath, one)).status, 404u);
  EXPECT_EQ(conn.roundtrip(make_request("GET", kPath, one)).status, 429u);
  EXPECT_EQ(conn.roundtrip(make_request("GET", kPath, two)).status, 404u);
}

TEST(RateLimitTest, DisabledMeansNo429) {
  auto server = ServerProcess::serve({}, {{"SCRIBEPOD_RATE_LIMIT_ENABLED", "false"},
                                          {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_RPS", "0.5"},
                                          {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_BURST", "1"}});
  HttpConnection conn(server->port());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(conn.roundtrip(make_request("GET", kPath)).status, 404u) << "request " << i;
  }
}

}  // namespace
}  // namespace scribepod::testing
