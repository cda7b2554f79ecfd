// PostgresHistoryStore: the HistoryStore on a PostgreSQL server, via libpq.
//
// One connection behind a mutex (the store's writes are small and the
// server does the heavy lifting; a pool is a later change behind the same
// interface). Every statement is parameterised; writes are one transaction
// of idempotent upserts (INSERT ... ON CONFLICT DO UPDATE), timestamps are
// bigint milliseconds since the epoch. Opening connects and applies the
// numbered migrations recorded in schema_migrations, under an advisory lock
// so that concurrent openers apply each once.
//
// Reconnection: when a statement fails because the connection broke (the
// server restarted, a network blip), the store resets the connection and
// retries the whole transaction once; that is safe because every write is
// an idempotent upsert. While the server stays unreachable every call
// returns kUnavailable ("history store: PostgreSQL unreachable at
// host:port") and ready() is false; the first call after it comes back
// reconnects. describe() and logs show the URL without its password.
//
// Like the SQLite store, saving an utterance or thoughts for an untouched
// session creates the session row in the same transaction, and a zero
// created_at is stored as the time of the write.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/history_store.h"
#include "store/postgres/pg_url.h"

struct pg_conn;  // libpq's PGconn

namespace scribepod::store {

struct PostgresParams {
  std::string url;  // secret: may hold a password
  int connect_timeout_s = 5;
  int statement_timeout_ms = 10000;  // server-side, per statement
};

PostgresParams default_postgres_params();

class PostgresHistoryStore final : public HistoryStore {
 public:
  // kInvalidConfig for a malformed URL, kUnavailable when the server can't
  // be reached, kInternal when a migration fails.
  static Result<std::unique_ptr<PostgresHistoryStore>> open(const PostgresParams& params);
  ~PostgresHistoryStore() override;
  PostgresHistoryStore(const PostgresHistoryStore&) = delete;
  PostgresHistoryStore& operator=(const PostgresHistoryStore&) = delete;

  std::string name() const override { return "postgres"; }
  std::string describe() const override { return target_.redacted_url(); }
  // Pings the server (reconnecting if needed), so it notices a server that
  // went away while the store was idle.
  bool ready(std::string& detail) const override;

  Status touch_session(const std::string& id, TimePoint now) override;
  Status save_utterance(const std::string& session_id, const UtteranceRecord& u) override;
  Status save_thoughts(const std::string& session_id, const ThoughtsRecord& t) override;
  Result<std::optional<SessionHistory>> load(const std::string& session_id) const override;
  Result<std::size_t> delete_idle(TimePoint cutoff) override;

  static int schema_version();

 private:
  struct ConnCloser {
    void operator()(pg_conn* c) const;
  };

  PostgresHistoryStore(PostgresParams params, PgTarget target);
  // Connects (or resets a broken connection); false when unreachable.
  bool connect_locked() const;
  Error unreachable() const;
  Status migrate_locked();
  // Runs `body(PgSession&)` with a live connection, resetting the connection
  // and retrying once when it broke underneath.
  template <typename T, typename Body>
  Result<T> run(const char* what, Body&& body) const;

  PostgresParams params_;
  PgTarget target_;
  mutable std::mutex mu_;
  mutable std::unique_ptr<pg_conn, ConnCloser> conn_;
  mutable bool reachable_ = true;  // last known; logs only its changes
};

}  // namespace scribepod::store
