// SqliteHistoryStore: the embedded HistoryStore, one SQLite file.
//
// Opening creates the file's parent directory, switches the database to WAL
// mode with synchronous=FULL (a write that returned OK survives a crash or
// power loss), enables foreign keys and brings the schema up to date through
// numbered migrations recorded in PRAGMA user_version (opening twice is a
// no-op). Every write is one IMMEDIATE transaction over prepared statements;
// a failure rolls it back, so nothing is half-written.
//
// Errors: a full disk (SQLITE_FULL) and I/O errors are kIo ("history store:
// disk full writing ..."); a database locked by another process past the
// busy timeout is kUnavailable. Messages never name a session id: ids are
// the only key to a session.
//
// Saving an utterance or thoughts for a session not yet touched creates the
// session row first (in the same transaction), so no write is refused for
// ordering. A zero created_at is stored as the time of the write.
//
// Thread-safe: one connection behind a mutex (SQLite serialises writers
// anyway; reads are short).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "store/history_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace scribepod::store {

struct SqliteParams {
  std::string path;            // the database file; its parent is created
  int busy_timeout_ms = 5000;  // wait for another process's lock this long
  // 0: no cap. Otherwise PRAGMA max_page_count: writes that would grow the
  // file past it fail exactly like a full disk (SQLITE_FULL). A size guard,
  // and how the tests make a disk "full" without root.
  int64_t max_page_count = 0;
};

SqliteParams default_sqlite_params();

class SqliteHistoryStore final : public HistoryStore {
 public:
  static Result<std::unique_ptr<SqliteHistoryStore>> open(const SqliteParams& params);
  ~SqliteHistoryStore() override;
  SqliteHistoryStore(const SqliteHistoryStore&) = delete;
  SqliteHistoryStore& operator=(const SqliteHistoryStore&) = delete;

  std::string name() const override { return "sqlite"; }
  std::string describe() const override { return params_.path; }
  bool ready(std::string& detail) const override;

  Status touch_session(const std::string& id, TimePoint now) override;
  Status save_utterance(const std::string& session_id, const UtteranceRecord& u) override;
  Status save_thoughts(const std::string& session_id, const ThoughtsRecord& t) override;
  Result<std::optional<SessionHistory>> load(const std::string& session_id) const override;
  Result<std::size_t> delete_idle(TimePoint cutoff) override;

  // The schema version this build migrates to (PRAGMA user_version).
  static int schema_version();

 private:
  struct DbCloser {
    void operator()(sqlite3* db) const;
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const;
  };
  using Db = std::unique_ptr<sqlite3, DbCloser>;
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  explicit SqliteHistoryStore(SqliteParams params);
  Status configure_and_migrate();
  Status prepare_all();
  Status prepare(Stmt& out, const char* sql);
  Status exec(const char* sql, const char* what);
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back on failure.
  template <typename Body>
  Status write_transaction(const std::string& what, Body&& body);
  Error error_from(int rc, const std::string& what) const;
  // The three selects of load(), inside its read transaction.
  Result<std::optional<SessionHistory>> load_locked(const std::string& session_id) const;

  SqliteParams params_;
  mutable std::mutex mu_;
  Db db_;  // declared before the statements: they are finalised first
  Stmt touch_, ensure_session_, save_utterance_, save_thoughts_;
  Stmt load_session_, load_utterances_, load_thoughts_, delete_idle_;
  // Why the last write failed, cleared by the next success; ready() says it.
  std::string last_write_error_;
};

}  // namespace scribepod::store
