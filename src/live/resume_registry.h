// ResumeRegistry: which live sessions a reconnecting client may resume, and
// with what token.
//
// A session registers when its stream starts and gets a random 128-bit
// resume token (hex, from getrandom). While its connection is open it is
// `attached`. When the connection drops it is first `draining` (its open
// utterance is being finalised and stored) and then `detached` until now +
// grace; only a detached, unexpired session with the right token can be
// resumed, which attaches it to the new connection. The right token for an
// attached or draining session answers kDraining (wait and retry): a client
// that reconnects at once is often faster than the server's view of the
// old connection closing. Tokens are compared in constant time.
// Expired entries are dropped lazily. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/result.h"

namespace scribepod::live {

class ResumeRegistry {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  enum class Claim { kResumed, kDraining, kRejected };

  // What the previous connection emitted, used when the client does not say
  // what it received (start without last_final / last_thoughts).
  struct Progress {
    int64_t last_final = 0;
    int64_t last_thoughts = 0;
  };

  explicit ResumeRegistry(Clock clock = {});

  // A new session; returns its token, or kInternal when the system has no
  // randomness to give.
  Result<std::string> add(const std::string& session_id);

  // The connection of `session_id` dropped; it is being flushed.
  void mark_draining(const std::string& session_id);
  // Flushing finished: resumable until now + grace.
  void mark_detached(const std::string& session_id, std::chrono::milliseconds grace,
                     Progress progress);
  // The session ended for good (stop, shutdown): no resume.
  void remove(const std::string& session_id);

  // Tries to resume: kResumed (the session is attached again and `progress`
  // filled), kDraining (right token, but flushing is not finished: retry
  // shortly; also while the old connection is still attached), kRejected
  // (unknown id, wrong token or expired).
  Claim claim(const std::string& session_id, const std::string& token, Progress& progress);

  std::size_t size();

 private:
  enum class State { kAttached, kDraining, kDetached };
  struct Entry {
    std::string token;
    State state = State::kAttached;
    std::chrono::steady_clock::time_point expires{};
    Progress progress;
  };
  void prune_locked(std::chrono::steady_clock::time_point now);

  Clock clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

// 32 lowercase hex digits from getrandom(2); kInternal when it fails.
Result<std::string> random_token_hex();

}  // namespace scribepod::live
