// Backend: one named remote service (an ASR or LLM server) and the policy
// for talking to it: timeouts on every attempt (ClientOptions), retries with
// backoff for retryable failures only (RetryPolicy), a circuit breaker, and
// `Authorization: Bearer <api_key>` when a key is set.
//
// call() returns the response when the backend answered 2xx, and an Error
// otherwise:
//   unreachable / connection broke     kUpstreamFailed  (after retries)
//   timed out                          kUpstreamTimeout (after retries)
//   429, 503                           kUnavailable, retry_after from Retry-After
//   other 5xx                          kUpstreamFailed  (504: kUpstreamTimeout)
//   413                                kPayloadTooLarge
//   other 4xx                          kUpstreamFailed, quoting the backend's message
//   circuit open                       kUnavailable with retry_after, at once
// Retryable failures are retried up to RetryPolicy::max_attempts; a
// Retry-After above max_delay ends the call at once with that retry_after.
// Each retry is logged at warn ("retrying remote call": backend, attempt,
// delay_ms, reason); the key is never logged.
//
// The breaker counts each attempt that got no usable answer or a retryable
// status as a failure, and any other answer (2xx, or a 4xx, which shows the
// backend is alive) as a success.
//
// Time: one call takes at most max_attempts x total_timeout plus the
// delays between attempts. Any method is retried, so send only requests that
// are safe to repeat (a transcription or a completion is).
//
// Thread-safe: one Backend is shared by every request that uses the service.
#pragma once

#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "core/result.h"
#include "remote/circuit_breaker.h"
#include "remote/http_client.h"
#include "remote/retry.h"
#include "telemetry/metrics.h"

namespace scribepod::remote {

class Backend {
 public:
  Backend(std::string name, std::string base_url, std::string api_key, ClientOptions client,
          RetryPolicy retry, BreakerOptions breaker, RetryHooks hooks = {});

  // `request.url` is either absolute or a path ("/v1/...") under base_url.
  Result<HttpResponse> call(HttpRequest request);

  const std::string& name() const { return name_; }
  const std::string& base_url() const { return base_url_; }
  const CircuitBreaker& breaker() const { return breaker_; }
  const ClientOptions& client_options() const { return client_.options(); }
  const RetryPolicy& retry_policy() const { return retry_; }

 private:
  std::chrono::milliseconds jittered_backoff(int attempt);

  const std::string name_;
  const std::string base_url_;  // without a trailing '/'
  const std::string api_key_;
  const RetryPolicy retry_;
  RetryHooks hooks_;
  HttpClient client_;
  CircuitBreaker breaker_;

  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  // scribepod_circuit_breaker_state{backend}, read from breaker_ at each scrape.
  metrics::CallbackHandle state_metric_;
};

}  // namespace scribepod::remote
