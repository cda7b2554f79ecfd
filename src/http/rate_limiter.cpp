#include "http/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "telemetry/service_metrics.h"

namespace scribepod::http {
namespace {
constexpr std::size_t kShards = 16;
}

TokenBucketLimiter::TokenBucketLimiter(double rate_per_second, double burst, std::size_t max_keys)
    : rate_(rate_per_second),
      burst_(std::max(1.0, burst)),
      max_per_shard_(std::max<std::size_t>(1, max_keys / kShards)),
      shards_(kShards) {}

TokenBucketLimiter::Decision TokenBucketLimiter::take(std::string_view key, Clock::time_point now) {
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_per_shard_) evict(shard, now);
    it = shard.buckets.emplace(std::string(key), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) {
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  const double wait_s = (1.0 - b.tokens) / rate_;
  return {false, std::chrono::milliseconds(static_cast<long long>(std::ceil(wait_s * 1000.0)))};
}

void TokenBucketLimiter::evict(Shard& shard, Clock::time_point now) {
  const double full_after_s = burst_ / rate_;
  std::erase_if(shard.buckets, [&](const auto& kv) {
    return std::chrono::duration<double>(now - kv.second.updated).count() >= full_after_s;
  });
  if (shard.buckets.size() < max_per_shard_) return;
  auto stalest = std::min_element(
      shard.buckets.begin(), shard.buckets.end(),
      [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
  if (stalest != shard.buckets.end()) shard.buckets.erase(stalest);
}

std::size_t TokenBucketLimiter::size() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

RateLimitMiddleware::RateLimitMiddleware(TokenBucketLimiter& per_client,
                                         TokenBucketLimiter& per_session,
                                         std::string session_header)
    : per_client_(per_client),
      per_session_(per_session),
      session_header_(std::move(session_header)) {}

namespace {
Result<Response> too_many(std::chrono::milliseconds wait, std::string_view what) {
  metrics::count_rate_limit_rejection(what);
  const auto secs = std::chrono::ceil<std::chrono::seconds>(wait);
  return Error{ErrorCode::kRateLimited,
               std::string("rate limit exceeded for this ") + std::string(what) + "; retry later",
               std::max(secs, std::chrono::seconds{1})};
}
}  // namespace

std::optional<Result<Response>> RateLimitMiddleware::before(Request& req, Context& ctx) {
  if (ctx.options.rate_limit_exempt) return std::nullopt;
  const auto client = per_client_.take(ctx.client_key + "|" + ctx.client_ip);
  if (!client.allowed) return too_many(client.retry_after, "client");
  const auto it = req.find(session_header_);
  if (it != req.end() && !it->value().empty()) {
    const auto session = per_session_.take(std::string_view(it->value()).substr(0, 64));
    if (!session.allowed) return too_many(session.retry_after, "session");
  }
  return std::nullopt;
}

}  // namespace scribepod::http
