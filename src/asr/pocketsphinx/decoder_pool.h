// DecoderPool<T>: at most `capacity` expensive objects (speech decoders),
// created lazily on first demand and reused afterwards. acquire() hands out
// an idle one, creates a new one while under capacity, or waits up to a
// timeout for one to come back; past the timeout it fails with kUnavailable
// so an overloaded server says "busy" instead of queueing without bound.
// A Lease returns its object to the pool when destroyed. The pool must
// outlive every lease (hold it in a shared_ptr when leases escape a call).
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace scribepod::asr {

template <typename T>
class DecoderPool {
 public:
  using Factory = std::function<Result<std::unique_ptr<T>>()>;

  class Lease {
   public:
    Lease() = default;
    Lease(DecoderPool* pool, std::unique_ptr<T> item) : pool_(pool), item_(std::move(item)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), item_(std::move(other.item_)) {}
    Lease& operator=(Lease&& other) noexcept {
      if (this != &other) {
        release();
        pool_ = std::exchange(other.pool_, nullptr);
        item_ = std::move(other.item_);
      }
      return *this;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }

    T& operator*() const { return *item_; }
    T* operator->() const { return item_.get(); }
    explicit operator bool() const { return item_ != nullptr; }

    // Gives the object back early (e.g. when a stream is finalized but the
    // stream object lives on).
    void release() {
      if (pool_ != nullptr && item_ != nullptr) pool_->give_back(std::move(item_));
      pool_ = nullptr;
      item_.reset();
    }

   private:
    DecoderPool* pool_ = nullptr;
    std::unique_ptr<T> item_;
  };

  DecoderPool(std::size_t capacity, Factory factory, std::string what)
      : capacity_(capacity == 0 ? 1 : capacity),
        factory_(std::move(factory)),
        what_(std::move(what)) {}
  DecoderPool(const DecoderPool&) = delete;
  DecoderPool& operator=(const DecoderPool&) = delete;

  // Adds an already built object (the one made at start-up to check the model).
  void add_idle(std::unique_ptr<T> item) {
    std::lock_guard lock(mu_);
    ++created_;
    idle_.push_back(std::move(item));
  }

  Result<Lease> acquire(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!idle_.empty()) {
        auto item = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(item));
      }
      if (created_ < capacity_) {
        // Reserve the slot, then build outside the lock: building a decoder
        // takes about a second and must not block leases being returned.
        ++created_;
        lock.unlock();
        auto made = factory_();
        if (!made.ok()) {
          lock.lock();
          --created_;
          cv_.notify_one();
          return std::move(made).take_error();
        }
        return Lease(this, std::move(made).value());
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          created_ >= capacity_) {
        Error error{ErrorCode::kUnavailable,
                    "all " + std::to_string(capacity_) + " " + what_ + " busy; try again shortly",
                    std::chrono::seconds(1)};
        return error;
      }
    }
  }

  std::size_t capacity() const { return capacity_; }
  // Objects built so far (idle or leased).
  std::size_t created() const {
    std::lock_guard lock(mu_);
    return created_;
  }

 private:
  void give_back(std::unique_ptr<T> item) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(item));
    }
    cv_.notify_one();
  }

  const std::size_t capacity_;
  Factory factory_;
  const std::string what_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<T>> idle_;
  std::size_t created_ = 0;
};

}  // namespace scribepod::asr
