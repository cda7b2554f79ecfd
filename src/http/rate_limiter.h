// TokenBucketLimiter: one token bucket per key (a client, a session).
//
// Each bucket holds up to `burst` tokens and refills at `rate` tokens per
// second; a request takes one. When a bucket is empty the caller learns how
// long until the next token, which becomes Retry-After. Buckets live in
// sharded maps so concurrent requests rarely contend; when a shard exceeds
// its share of `max_keys`, buckets that have refilled completely (idle
// clients, indistinguishable from new ones) are dropped, then the stalest.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/middleware.h"

namespace scribepod::http {

class TokenBucketLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Decision {
    bool allowed = true;
    std::chrono::milliseconds retry_after{0};  // when !allowed
  };

  TokenBucketLimiter(double rate_per_second, double burst, std::size_t max_keys);

  Decision take(std::string_view key, Clock::time_point now = Clock::now());
  std::size_t size() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
  };
  void evict(Shard& shard, Clock::time_point now);

  double rate_;
  double burst_;
  std::size_t max_per_shard_;
  std::vector<Shard> shards_;
};

// Applies a per-client limiter (API key fingerprint + IP) and, when the
// request names a session in `session_header`, a per-session limiter.
// Routes marked rate_limit_exempt skip both.
class RateLimitMiddleware final : public Middleware {
 public:
  RateLimitMiddleware(TokenBucketLimiter& per_client, TokenBucketLimiter& per_session,
                      std::string session_header = "X-Session-Id");
  std::optional<Result<Response>> before(Request& req, Context& ctx) override;

 private:
  TokenBucketLimiter& per_client_;
  TokenBucketLimiter& per_session_;
  std::string session_header_;
};

}  // namespace scribepod::http
