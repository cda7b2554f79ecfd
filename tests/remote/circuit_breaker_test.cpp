#include "remote/circuit_breaker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace scribepod::remote {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A hand-driven clock so cooldowns pass without waiting.
struct FakeClock {
  std::chrono::steady_clock::time_point t{std::chrono::hours(1)};
  CircuitBreaker::Clock fn() {
    return [this] { return t; };
  }
};

TEST(CircuitBreakerTest, OpensAfterThresholdConsecutiveFailures) {
  FakeClock clock;
  CircuitBreaker b("asr", {.failure_threshold = 3, .cooldown = seconds(10)}, clock.fn());
  EXPECT_EQ(b.name(), "asr");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.allow().ok());
    b.record_failure();
  }
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  ASSERT_TRUE(b.allow().ok());
  b.record_failure();
  EXPECT_EQ(b.state(), BreakerState::kOpen);

  const Status refused = b.allow();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(refused.error().message, "backend asr unavailable (circuit open), retry in 10 s");
  EXPECT_EQ(refused.error().retry_after, seconds(10));

  clock.t += milliseconds(7500);
  EXPECT_EQ(b.allow().error().retry_after, seconds(3));  // rounded up
}

TEST(CircuitBreakerTest, SuccessResetsTheCount) {
  FakeClock clock;
  CircuitBreaker b("x", {.failure_threshold = 3}, clock.fn());
  b.record_failure();
  b.record_failure();
  b.record_success();
  EXPECT_EQ(b.consecutive_failures(), 0);
  b.record_failure();
  b.record_failure();
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, HalfOpenLetsOneProbeThroughAndClosesOnSuccess) {
  FakeClock clock;
  CircuitBreaker b("x", {.failure_threshold = 1, .cooldown = seconds(10)}, clock.fn());
  b.record_failure();
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  clock.t += seconds(10);
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  ASSERT_TRUE(b.allow().ok());   // the probe
  EXPECT_FALSE(b.allow().ok());  // everyone else waits for its verdict
  EXPECT_EQ(b.allow().error().retry_after, seconds(1));
  b.record_success();
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_TRUE(b.allow().ok());
  EXPECT_TRUE(b.allow().ok());
}

TEST(CircuitBreakerTest, FailedProbeReopensForAnotherCooldown) {
  FakeClock clock;
  CircuitBreaker b("x", {.failure_threshold = 2, .cooldown = seconds(5)}, clock.fn());
  b.record_failure();
  b.record_failure();
  clock.t += seconds(5);
  ASSERT_TRUE(b.allow().ok());
  b.record_failure();
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.allow().error().retry_after, seconds(5));
  clock.t += seconds(4);
  EXPECT_FALSE(b.allow().ok());
  clock.t += seconds(1);
  EXPECT_TRUE(b.allow().ok());
}

TEST(CircuitBreakerTest, StragglersWhileOpenChangeNothing) {
  FakeClock clock;
  CircuitBreaker b("x", {.failure_threshold = 1, .cooldown = seconds(5)}, clock.fn());
  b.record_failure();
  clock.t += seconds(3);
  b.record_success();  // a call let through before it opened
  b.record_failure();
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  clock.t += seconds(2);  // the cooldown was not restarted by the straggler
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
}

TEST(CircuitBreakerTest, ConcurrentUseIsConsistent) {
  CircuitBreaker b("x", {.failure_threshold = 1000000, .cooldown = seconds(1)});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&b, t] {
      for (int i = 0; i < 10000; ++i) {
        if (b.allow().ok()) {
          if ((i + t) % 2 == 0) {
            b.record_failure();
          } else {
            b.record_success();
          }
        }
        (void)b.state();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, StateNames) {
  EXPECT_EQ(breaker_state_name(BreakerState::kClosed), "closed");
  EXPECT_EQ(breaker_state_name(BreakerState::kOpen), "open");
  EXPECT_EQ(breaker_state_name(BreakerState::kHalfOpen), "half_open");
}

}  // namespace
}  // namespace scribepod::remote
