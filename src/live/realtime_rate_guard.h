// RealtimeRateGuard: a token bucket over audio time against wall time. Each
// frame spends its audio duration; the bucket refills at `factor` ms of
// audio per ms of wall time up to `burst`. A client that streams faster than
// `factor` x real time for longer than the burst allows is refused, while
// jitter and a reconnect's short catch-up pass. Not thread-safe.
#pragma once

#include <algorithm>
#include <chrono>

namespace scribepod::live {

class RealtimeRateGuard {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  RealtimeRateGuard(double factor, double burst_ms, TimePoint now)
      : factor_(factor), burst_ms_(burst_ms), tokens_ms_(burst_ms), last_(now) {}

  // Spends `audio_ms`; false (nothing spent) when the bucket cannot pay.
  bool admit(double audio_ms, TimePoint now) {
    const double wall_ms = std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = std::max(last_, now);
    tokens_ms_ = std::min(burst_ms_, tokens_ms_ + std::max(0.0, wall_ms) * factor_);
    if (audio_ms > tokens_ms_) return false;
    tokens_ms_ -= audio_ms;
    return true;
  }

 private:
  double factor_;
  double burst_ms_;
  double tokens_ms_;
  TimePoint last_;
};

}  // namespace scribepod::live
