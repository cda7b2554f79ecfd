#include "http/rate_limiter.h"

#include <gtest/gtest.h>

namespace scribepod::http {
namespace {

using Clock = TokenBucketLimiter::Clock;
using std::chrono::milliseconds;

TEST(TokenBucketLimiterTest, AllowsBurstThenRefusesWithRetryAfter) {
  TokenBucketLimiter limiter(/*rate=*/2.0, /*burst=*/3.0, /*max_keys=*/1000);
  const auto t0 = Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.take("k", t0).allowed) << i;
  const auto refused = limiter.take("k", t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, milliseconds(500));  // one token at 2/s
}

TEST(TokenBucketLimiterTest, RefillsAtTheConfiguredRate) {
  TokenBucketLimiter limiter(10.0, 1.0, 1000);
  const auto t0 = Clock::now();
  EXPECT_TRUE(limiter.take("k", t0).allowed);
  EXPECT_FALSE(limiter.take("k", t0 + milliseconds(50)).allowed);
  EXPECT_TRUE(limiter.take("k", t0 + milliseconds(150)).allowed);
}

TEST(TokenBucketLimiterTest, KeysAreIndependent) {
  TokenBucketLimiter limiter(1.0, 1.0, 1000);
  const auto t0 = Clock::now();
  EXPECT_TRUE(limiter.take("a", t0).allowed);
  EXPECT_FALSE(limiter.take("a", t0).allowed);
  EXPECT_TRUE(limiter.take("b", t0).allowed);
}

TEST(TokenBucketLimiterTest, BoundedMemoryEvictsIdleBuckets) {
  TokenBucketLimiter limiter(100.0, 1.0, /*max_keys=*/64);
  auto t = Clock::now();
  for (int i = 0; i < 10'000; ++i) {
    t += milliseconds(1);
    ASSERT_TRUE(limiter.take("client-" + std::to_string(i), t).allowed);
  }
  EXPECT_LE(limiter.size(), 64u + 16u);
}

}  // namespace
}  // namespace scribepod::http
