#include "remote/circuit_breaker.h"

#include <fmt/format.h>

#include <algorithm>

#include "telemetry/log.h"

namespace scribepod::remote {

std::string_view breaker_state_name(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

CircuitBreaker::CircuitBreaker(std::string name, BreakerOptions options, Clock clock)
    : name_(std::move(name)), options_(options), clock_(std::move(clock)) {}

std::chrono::steady_clock::time_point CircuitBreaker::now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

void CircuitBreaker::open_locked(std::chrono::steady_clock::time_point at) {
  state_ = BreakerState::kOpen;
  opened_at_ = at;
  probe_in_flight_ = false;
}

Status CircuitBreaker::allow() {
  const auto t = now();
  std::lock_guard lock(mu_);
  if (state_ == BreakerState::kClosed) return {};
  if (state_ == BreakerState::kOpen && t - opened_at_ >= options_.cooldown) {
    state_ = BreakerState::kHalfOpen;
    probe_in_flight_ = false;
  }
  if (state_ == BreakerState::kHalfOpen && !probe_in_flight_) {
    probe_in_flight_ = true;
    log::info("circuit half-open, probing", {{"backend", name_}});
    return {};
  }
  // Open, or half-open with the probe still out: tell the caller when the
  // next probe may go (at least a second, the header's resolution).
  const auto remaining = state_ == BreakerState::kOpen ? options_.cooldown - (t - opened_at_)
                                                       : std::chrono::steady_clock::duration{};
  const auto wait_s =
      std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(remaining).count());
  return Error{ErrorCode::kUnavailable,
               fmt::format("backend {} unavailable (circuit open), retry in {} s", name_, wait_s),
               std::chrono::seconds(wait_s)};
}

void CircuitBreaker::record_success() {
  std::lock_guard lock(mu_);
  if (state_ == BreakerState::kOpen) return;  // a straggler from before it opened
  if (state_ == BreakerState::kHalfOpen) {
    log::info("circuit closed", {{"backend", name_}});
  }
  state_ = BreakerState::kClosed;
  failures_ = 0;
  probe_in_flight_ = false;
}

void CircuitBreaker::record_failure() {
  const auto t = now();
  std::lock_guard lock(mu_);
  switch (state_) {
    case BreakerState::kClosed:
      if (++failures_ >= options_.failure_threshold) {
        open_locked(t);
        log::error("circuit opened",
                   {{"backend", name_},
                    {"consecutive_failures", failures_},
                    {"cooldown_ms", static_cast<long long>(options_.cooldown.count())}});
      }
      break;
    case BreakerState::kHalfOpen:
      ++failures_;
      open_locked(t);
      log::warn("circuit probe failed, reopened", {{"backend", name_}});
      break;
    case BreakerState::kOpen:
      break;  // a straggler: the cooldown already runs
  }
}

BreakerState CircuitBreaker::state() const {
  const auto t = now();
  std::lock_guard lock(mu_);
  if (state_ == BreakerState::kOpen && t - opened_at_ >= options_.cooldown) {
    return BreakerState::kHalfOpen;
  }
  return state_;
}

int CircuitBreaker::consecutive_failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

}  // namespace scribepod::remote
