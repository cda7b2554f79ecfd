// CircuitBreaker: stops calling a remote backend that keeps failing, so that
// requests fail in microseconds instead of each waiting out timeouts and
// retries against a dead host.
//
// Closed: calls go through; `failure_threshold` consecutive failures open
// it. Open: calls are refused with kUnavailable ("backend X unavailable
// (circuit open), retry in N s", retry_after = N) until `cooldown` has
// passed. Half-open: the next caller is let through alone as a probe; its
// success closes the circuit, its failure opens it for another cooldown,
// and callers arriving meanwhile are refused.
//
// Usage per attempt: allow(); on ok, make the call, then record_success() or
// record_failure(). What counts as a failure is the caller's choice (Backend
// counts the retryable ones: unreachable, timed out, 429, 5xx).
//
// Thread-safe. One breaker per backend, owned by its Backend.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.h"

namespace scribepod::remote {

struct BreakerOptions {
  int failure_threshold = 5;  // consecutive failures that open the circuit
  std::chrono::milliseconds cooldown{10000};

  static BreakerOptions default_options() { return {}; }
};

enum class BreakerState { kClosed, kOpen, kHalfOpen };

std::string_view breaker_state_name(BreakerState state);  // "closed", "open", "half_open"

class CircuitBreaker {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // `clock` defaults to std::chrono::steady_clock::now; tests may inject one.
  CircuitBreaker(std::string name, BreakerOptions options, Clock clock = {});

  // Ok when a call may go ahead now; kUnavailable with retry_after otherwise.
  Status allow();
  void record_success();
  void record_failure();

  // The state as a caller would meet it now: an open circuit whose cooldown
  // has passed reads as half-open.
  BreakerState state() const;
  const std::string& name() const { return name_; }
  int consecutive_failures() const;

 private:
  std::chrono::steady_clock::time_point now() const;
  void open_locked(std::chrono::steady_clock::time_point now);

  const std::string name_;
  const BreakerOptions options_;
  const Clock clock_;

  mutable std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;
  int failures_ = 0;
  bool probe_in_flight_ = false;
  std::chrono::steady_clock::time_point opened_at_{};
};

}  // namespace scribepod::remote
