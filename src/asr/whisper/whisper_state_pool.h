// A fixed set of whisper.cpp decoding states, lent out one decode at a time.
//
// A whisper_state holds everything one decode needs besides the shared model
// (KV caches, compute buffers, results), so decodes on different states run
// in parallel on one loaded model. acquire() waits up to a timeout for a free
// state; try_acquire() never waits. A Lease hands its state back when it is
// destroyed. The pool owns the states and frees them; it must outlive every
// lease, and the model must outlive the pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

struct whisper_state;

namespace scribepod::asr {

class WhisperStatePool {
 public:
  struct StateDeleter {
    void operator()(whisper_state* s) const;
  };
  using StatePtr = std::unique_ptr<whisper_state, StateDeleter>;

  class Lease {
   public:
    Lease(WhisperStatePool* pool, whisper_state* state) : pool_(pool), state_(state) {}
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    whisper_state* get() const { return state_; }

   private:
    WhisperStatePool* pool_;
    whisper_state* state_;
  };

  explicit WhisperStatePool(std::vector<StatePtr> states);

  std::optional<Lease> acquire(std::chrono::milliseconds timeout);
  std::optional<Lease> try_acquire();
  std::size_t size() const { return states_.size(); }

 private:
  Lease take();  // mu_ held, a state free
  void release(whisper_state* s);

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<StatePtr> states_;
  std::vector<whisper_state*> free_;
};

}  // namespace scribepod::asr
