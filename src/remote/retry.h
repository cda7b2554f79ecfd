// Retry policy for calls to remote backends: which failures are worth a
// second try, and how long to wait before it.
//
// Retryable: transport failures that a later attempt may not meet (connect
// refused, DNS, timeouts, a dropped connection) and the statuses that say
// "not now" (429, 500, 502, 503, 504). Everything else (400, 401, 403, 404,
// 413, 415, 422, an oversized response, a TLS or URL error) fails at once:
// sending the same request again would get the same answer.
//
// Backoff is exponential with a jittered share: the ceiling for the delay
// after attempt n is min(max_delay, base_delay * 2^(n-1)), and the delay is
// ceiling * (1 - jitter * u) with u uniform in [0, 1). jitter = 1 is "full
// jitter" (anywhere in [0, ceiling)), jitter = 0.5 (the default) keeps at
// least half the ceiling so that retries never bunch up near zero, and
// jitter = 0 is plain exponential backoff.
//
// A Retry-After header (delta seconds or an HTTP-date) on a 429 or 503
// replaces the computed delay. When it asks for longer than max_delay the
// call fails fast instead of holding a request thread, and the error carries
// the server's retry_after for our own client.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include "remote/http_client.h"

namespace scribepod::remote {

struct RetryPolicy {
  int max_attempts = 3;  // total attempts, first one included; 1 disables retries
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{5000};
  double jitter = 0.5;  // share of the delay that is randomised, 0..1

  static RetryPolicy default_policy() { return {}; }
};

// Seams for tests: how the retry loop waits and where its randomness comes
// from. Defaults: std::this_thread::sleep_for and a seeded Mersenne twister.
struct RetryHooks {
  std::function<void(std::chrono::milliseconds)> sleep{};
  std::function<double()> uniform01{};  // returns u in [0, 1)
};

bool is_retryable_status(long status);
bool is_retryable_failure(TransportFailure failure);

// The computed wait after failed attempt `attempt` (1-based), for a given u
// in [0, 1). Pure, so the curve can be tested exactly.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double u);

// Parses a Retry-After value: delta seconds ("120") or an IMF-fixdate
// ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to `now`. A date in the past
// gives zero; anything unparseable gives nullopt.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace scribepod::remote
