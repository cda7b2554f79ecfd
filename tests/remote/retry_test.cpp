#include "remote/retry.h"

#include <gtest/gtest.h>

namespace scribepod::remote {
namespace {

using std::chrono::milliseconds;

TEST(RetryTest, RetryableStatusesAreExactlyTheTransientOnes) {
  for (long s : {429L, 500L, 502L, 503L, 504L}) EXPECT_TRUE(is_retryable_status(s)) << s;
  for (long s :
       {200L, 201L, 301L, 400L, 401L, 403L, 404L, 405L, 409L, 413L, 415L, 422L, 501L, 505L}) {
    EXPECT_FALSE(is_retryable_status(s)) << s;
  }
}

TEST(RetryTest, RetryableTransportFailures) {
  EXPECT_TRUE(is_retryable_failure(TransportFailure::kConnect));
  EXPECT_TRUE(is_retryable_failure(TransportFailure::kTimeout));
  EXPECT_TRUE(is_retryable_failure(TransportFailure::kDropped));
  EXPECT_FALSE(is_retryable_failure(TransportFailure::kTooLarge));
  EXPECT_FALSE(is_retryable_failure(TransportFailure::kOther));
}

TEST(RetryTest, BackoffDoublesUpToTheCap) {
  const RetryPolicy p{.max_attempts = 10,
                      .base_delay = milliseconds(200),
                      .max_delay = milliseconds(5000),
                      .jitter = 0.5};
  // u = 0: the full ceiling.
  EXPECT_EQ(backoff_delay(p, 1, 0.0), milliseconds(200));
  EXPECT_EQ(backoff_delay(p, 2, 0.0), milliseconds(400));
  EXPECT_EQ(backoff_delay(p, 3, 0.0), milliseconds(800));
  EXPECT_EQ(backoff_delay(p, 5, 0.0), milliseconds(3200));
  EXPECT_EQ(backoff_delay(p, 6, 0.0), milliseconds(5000));
  EXPECT_EQ(backoff_delay(p, 60, 0.0), milliseconds(5000));
  // u -> 1: half the ceiling with jitter 0.5.
  EXPECT_EQ(backoff_delay(p, 1, 0.999999), milliseconds(100));
  EXPECT_EQ(backoff_delay(p, 3, 0.5), milliseconds(600));
}

TEST(RetryTest, JitterOneIsFullJitterAndZeroIsNone) {
  RetryPolicy p{.base_delay = milliseconds(100), .max_delay = milliseconds(1000), .jitter = 1.0};
  EXPECT_EQ(backoff_delay(p, 2, 0.0), milliseconds(200));
  EXPECT_EQ(backoff_delay(p, 2, 0.75), milliseconds(50));
  p.jitter = 0.0;
  EXPECT_EQ(backoff_delay(p, 2, 0.75), milliseconds(200));
}

TEST(RetryTest, RetryAfterSeconds) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(parse_retry_after("1", now), milliseconds(1000));
  EXPECT_EQ(parse_retry_after(" 120 ", now), milliseconds(120000));
  EXPECT_EQ(parse_retry_after("0", now), milliseconds(0));
  EXPECT_GE(*parse_retry_after("99999999999999999999999", now), milliseconds(3600 * 1000));
  EXPECT_FALSE(parse_retry_after("", now).has_value());
  EXPECT_FALSE(parse_retry_after("-1", now).has_value());
  EXPECT_FALSE(parse_retry_after("1.5", now).has_value());
  EXPECT_FALSE(parse_retry_after("soon", now).has_value());
}

TEST(RetryTest, RetryAfterHttpDate) {
  // 2015-10-21T07:28:00Z
  const auto base = std::chrono::sys_days{std::chrono::year{2015} / 10 / 21} +
                    std::chrono::hours(7) + std::chrono::minutes(28);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", base), milliseconds(30000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", base), milliseconds(0));  // past
  EXPECT_EQ(parse_retry_after("Thu, 22 Oct 2015 07:28:00 GMT", base), milliseconds(86400000));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Foo 2015 07:28:30 GMT", base).has_value());
  EXPECT_FALSE(parse_retry_after("Wed, 31 Feb 2015 07:28:30 GMT", base).has_value());
  EXPECT_FALSE(parse_retry_after("Wednesday, 21-Oct-15 07:28:30 GMT", base).has_value());
}

}  // namespace
}  // namespace scribepod::remote
