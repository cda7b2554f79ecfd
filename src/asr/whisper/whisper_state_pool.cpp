#include "asr/whisper/whisper_state_pool.h"

#include <whisper.h>

#include <utility>

namespace scribepod::asr {

void WhisperStatePool::StateDeleter::operator()(whisper_state* s) const { whisper_free_state(s); }

WhisperStatePool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), state_(other.state_) {}

WhisperStatePool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(state_);
}

WhisperStatePool::WhisperStatePool(std::vector<StatePtr> states) : states_(std::move(states)) {
  for (const StatePtr& s : states_) free_.push_back(s.get());
}

std::optional<WhisperStatePool::Lease> WhisperStatePool::acquire(
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !free_.empty(); })) return std::nullopt;
  return take();
}

std::optional<WhisperStatePool::Lease> WhisperStatePool::try_acquire() {
  const std::lock_guard lock(mu_);
  if (free_.empty()) return std::nullopt;
  return take();
}

WhisperStatePool::Lease WhisperStatePool::take() {
  whisper_state* s = free_.back();
  free_.pop_back();
  return Lease(this, s);
}

void WhisperStatePool::release(whisper_state* s) {
  {
    const std::lock_guard lock(mu_);
    free_.push_back(s);
  }
  cv_.notify_one();
}

}  // namespace scribepod::asr
