// HistoryStore: the durable record of conversations, so a restart loses no
// stored utterance and a reconnecting client can be replayed what it missed.
//
// It holds sessions, their utterances (final text with timings) and the
// thoughts produced after each utterance (with engine and latency). An
// utterance is identified within its session by `seq` (1, 2, 3, ...);
// saving an utterance with an existing seq replaces it (the original REST
// flow re-sends a growing utterance as chunk 2, 3, ...). Thoughts refer to
// an utterance seq; saving thoughts again for the same seq replaces them.
// Saving for a session that was never touched creates it in the same
// transaction.
//
// Every write is durable when it returns OK (SQLite: committed in WAL mode;
// PostgreSQL: committed). A failed write returns an Error (kIo for a local
// failure such as a full disk, kUnavailable when the database is unreachable)
// and leaves nothing half-written: the caller must not acknowledge data whose
// write failed.
//
// Backends: SqliteHistoryStore (the embedded default, a file under the data
// directory) and PostgresHistoryStore (reconnects by itself after the server
// restarts). Both apply their schema migrations on open. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace scribepod::store {

using TimePoint = std::chrono::system_clock::time_point;

struct UtteranceRecord {
  int64_t seq = 0;  // 1-based within the session
  std::string text;
  int64_t start_ms = 0;  // audio time within the session's stream (0 for REST)
  int64_t end_ms = 0;
  double decode_ms = 0;  // recogniser wall time
  TimePoint created_at{};
};

struct ThoughtsRecord {
  int64_t utterance_seq = 0;
  std::string intent;
  std::string person_is;
  std::string extra_state;
  std::string thoughts;
  std::string response;
  std::string engine;
  double latency_ms = 0;
  TimePoint created_at{};
};

struct SessionRecord {
  std::string id;  // UUIDv4 text
  TimePoint created_at{};
  TimePoint last_activity{};
};

struct SessionHistory {
  SessionRecord session;
  std::vector<UtteranceRecord> utterances;  // ordered by seq
  std::vector<ThoughtsRecord> thoughts;     // ordered by utterance_seq
};

class HistoryStore {
 public:
  virtual ~HistoryStore() = default;
  virtual std::string name() const = 0;      // "sqlite", "postgres"
  virtual std::string describe() const = 0;  // path or host/db, never a password
  // Whether the store can take writes now; `detail` says why not.
  virtual bool ready(std::string& detail) const = 0;

  // Creates the session if new, else updates its last_activity.
  virtual Status touch_session(const std::string& id, TimePoint now) = 0;
  virtual Status save_utterance(const std::string& session_id, const UtteranceRecord& u) = 0;
  virtual Status save_thoughts(const std::string& session_id, const ThoughtsRecord& t) = 0;
  // std::nullopt when no such session was ever stored.
  virtual Result<std::optional<SessionHistory>> load(const std::string& session_id) const = 0;
  // Removes sessions whose last_activity is before `cutoff`, with their
  // utterances and thoughts; returns how many sessions went.
  virtual Result<std::size_t> delete_idle(TimePoint cutoff) = 0;
};

}  // namespace scribepod::store
