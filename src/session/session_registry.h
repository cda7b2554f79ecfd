// SessionRegistry<State>: every live conversation, reachable only by its id.
//
// A session is a State (the api layer uses the mind state) behind its own
// mutex, with the time of its last activity. Clients present an id; a
// malformed id is the caller's 400 (see session_id.h), and an id the registry
// does not hold starts a new session under a NEW id, as the original did, so
// a client can never choose or guess its way into a conversation. An id that
// left memory (server restart, expiry) can be brought back by `restore`
// (the api layer reads the history store) under the same id.
//
// Limits: at most `max_sessions` live at once (kUnavailable with a
// Retry-After beyond that); sessions idle longer than `timeout` are removed
// by sweep(), which the owner runs every `sweep_interval` (start_sweeper()
// runs it on a thread of its own until the registry is destroyed).
//
// Thread-safe. Handles keep a removed session alive until dropped, so a
// request racing the sweeper finishes on consistent state.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.h"
#include "session/session_id.h"

namespace scribepod::session {

struct RegistryOptions {
  std::chrono::milliseconds timeout{3'600'000};
  std::chrono::milliseconds sweep_interval{600'000};
  std::size_t max_sessions = 10'000;
};

struct SessionSummary {
  std::string id;
  std::size_t length = 0;  // utterances
  std::chrono::system_clock::time_point last_activity;
  std::chrono::system_clock::time_point created_at;
};

template <typename State>
class SessionRegistry {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  struct Session {
    const std::string id;
    const std::chrono::system_clock::time_point created_at;
    // Guards `state`. Hold it only to read or update the state, never across
    // slow work (recognition, thinking): copy what is needed, unlock, work,
    // then lock again to apply the result.
    std::mutex mu;
    State state;

    Session(std::string i, std::chrono::system_clock::time_point now, State s)
        : id(std::move(i)), created_at(now), state(std::move(s)), last_ms_(to_ms(now)) {}

    std::chrono::system_clock::time_point last_activity() const {
      return std::chrono::system_clock::time_point(std::chrono::milliseconds(last_ms_.load()));
    }
    void touch(std::chrono::system_clock::time_point now) {
      const int64_t ms = to_ms(now);
      int64_t seen = last_ms_.load();
      while (seen < ms && !last_ms_.compare_exchange_weak(seen, ms)) {
      }
    }

   private:
    static int64_t to_ms(std::chrono::system_clock::time_point t) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    }
    std::atomic<int64_t> last_ms_;
  };
  using Handle = std::shared_ptr<Session>;

  struct Lookup {
    Handle session;
    bool created = false;   // a new, empty session (new id)
    bool restored = false;  // brought back from the store under the asked id
  };

  // `length` reports a state's size for stats; `restore` may bring back an id
  // that is not in memory (nullopt: unknown there too); `make` builds a fresh
  // state.
  SessionRegistry(RegistryOptions options, std::function<State()> make,
                  std::function<std::size_t(const State&)> length,
                  std::function<std::optional<State>(const std::string&)> restore = {},
                  Clock clock = {})
      : options_(options),
        make_(std::move(make)),
        length_(std::move(length)),
        restore_(std::move(restore)),
        clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })) {}

  ~SessionRegistry() { stop_sweeper(); }
  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;

  // The session for `id` (canonical, already validated), or a new one when
  // `id` is empty or unknown. Touches last_activity.
  Result<Lookup> find_or_create(const std::string& id) {
    const auto now = clock_();
    if (!id.empty()) {
      if (Handle h = find(id)) return Lookup{std::move(h), false, false};
      if (restore_) {
        // Outside the lock: restoring reads the store.
        if (std::optional<State> state = restore_(id)) {
          std::lock_guard lock(mu_);
          if (auto it = sessions_.find(id); it != sessions_.end()) {
            it->second->touch(now);
            return Lookup{it->second, false, false};
          }
          if (sessions_.size() >= options_.max_sessions) return full_error();
          auto h = std::make_shared<Session>(id, now, std::move(*state));
          sessions_.emplace(id, h);
          return Lookup{std::move(h), false, true};
        }
      }
    }
    std::lock_guard lock(mu_);
    if (sessions_.size() >= options_.max_sessions) return full_error();
    std::string fresh = new_session_id();
    auto h = std::make_shared<Session>(fresh, now, make_());
    sessions_.emplace(std::move(fresh), h);
    return Lookup{std::move(h), true, false};
  }

  // The live session for `id`, touched; nullptr when not in memory.
  Handle find(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return nullptr;
    it->second->touch(clock_());
    return it->second;
  }

  // Removes sessions idle longer than the timeout; returns how many.
  std::size_t sweep() {
    const auto cutoff = clock_() - options_.timeout;
    std::vector<Handle> expired;
    {
      std::lock_guard lock(mu_);
      for (auto it = sessions_.begin(); it != sessions_.end();) {
        if (it->second->last_activity() < cutoff) {
          expired.push_back(std::move(it->second));
          it = sessions_.erase(it);
        } else {
          ++it;
        }
      }
    }
    return expired.size();  // states are destroyed here, outside the lock
  }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return sessions_.size();
  }

  // One summary per live session, most recently active first.
  std::vector<SessionSummary> summaries() const {
    std::vector<Handle> all;
    {
      std::lock_guard lock(mu_);
      all.reserve(sessions_.size());
      for (const auto& [id, h] : sessions_) all.push_back(h);
    }
    std::vector<SessionSummary> out;
    out.reserve(all.size());
    for (const Handle& h : all) {
      std::lock_guard lock(h->mu);
      out.push_back({h->id, length_(h->state), h->last_activity(), h->created_at});
    }
    std::sort(out.begin(), out.end(), [](const SessionSummary& a, const SessionSummary& b) {
      return a.last_activity > b.last_activity;
    });
    return out;
  }

  // Runs sweep() every sweep_interval on a thread of its own; `on_sweep` is
  // called after each sweep with how many sessions it removed (often 0), so
  // the owner can do its own periodic upkeep there.
  void start_sweeper(std::function<void(std::size_t)> on_sweep = {}) {
    stop_sweeper();
    std::lock_guard lock(sweeper_mu_);
    stopping_ = false;
    sweeper_ = std::thread([this, on_sweep = std::move(on_sweep)] {
      std::unique_lock lk(sweeper_mu_);
      while (!sweeper_cv_.wait_for(lk, options_.sweep_interval, [this] { return stopping_; })) {
        lk.unlock();
        const std::size_t removed = sweep();
        if (on_sweep) on_sweep(removed);
        lk.lock();
      }
    });
  }

  void stop_sweeper() {
    {
      std::lock_guard lock(sweeper_mu_);
      stopping_ = true;
    }
    sweeper_cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
  }

  const RegistryOptions& options() const { return options_; }

 private:
  Error full_error() const {
    Error e{
        ErrorCode::kUnavailable,
        "too many active sessions (" + std::to_string(options_.max_sessions) + "); try again later",
        std::chrono::seconds(30)};
    return e;
  }

  const RegistryOptions options_;
  const std::function<State()> make_;
  const std::function<std::size_t(const State&)> length_;
  const std::function<std::optional<State>(const std::string&)> restore_;
  const Clock clock_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, Handle> sessions_;

  std::mutex sweeper_mu_;
  std::condition_variable sweeper_cv_;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace scribepod::session
