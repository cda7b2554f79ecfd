#include "store/sqlite/sqlite_history_store.h"

#include <sqlite3.h>

#include <array>
#include <climits>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "store/time_ms.h"
#include "telemetry/log.h"

namespace scribepod::store {
namespace {

// Migration i (0-based) takes the schema from user_version i to i + 1.
// Append only: a released migration never changes.
constexpr std::array<const char*, 1> kMigrations = {
    R"sql(
CREATE TABLE sessions (
  id            TEXT PRIMARY KEY NOT NULL,
  created_at    INTEGER NOT NULL,
  last_activity INTEGER NOT NULL
);
CREATE INDEX sessions_by_last_activity ON sessions(last_activity);
CREATE TABLE utterances (
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  text       TEXT NOT NULL,
  start_ms   INTEGER NOT NULL,
  end_ms     INTEGER NOT NULL,
  decode_ms  REAL NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, seq)
);
CREATE TABLE thoughts (
  session_id    TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  utterance_seq INTEGER NOT NULL,
  intent        TEXT NOT NULL,
  person_is     TEXT NOT NULL,
  extra_state   TEXT NOT NULL,
  thoughts      TEXT NOT NULL,
  response      TEXT NOT NULL,
  engine        TEXT NOT NULL,
  latency_ms    REAL NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (session_id, utterance_seq)
);
)sql",
};

constexpr const char* kTouchSql =
    "INSERT INTO sessions(id, created_at, last_activity) VALUES(?1, ?2, ?2) "
    "ON CONFLICT(id) DO UPDATE SET last_activity = max(last_activity, excluded.last_activity)";
constexpr const char* kEnsureSessionSql =
    "INSERT INTO sessions(id, created_at, last_activity) VALUES(?1, ?2, ?2) "
    "ON CONFLICT(id) DO NOTHING";
constexpr const char* kSaveUtteranceSql =
    "INSERT INTO utterances(session_id, seq, text, start_ms, end_ms, decode_ms, created_at) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT(session_id, seq) DO UPDATE SET text = excluded.text, "
    "start_ms = excluded.start_ms, end_ms = excluded.end_ms, decode_ms = excluded.decode_ms, "
    "created_at = excluded.created_at";
constexpr const char* kSaveThoughtsSql =
    "INSERT INTO thoughts(session_id, utterance_seq, intent, person_is, extra_state, thoughts, "
    "response, engine, latency_ms, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT(session_id, utterance_seq) DO UPDATE SET intent = excluded.intent, "
    "person_is = excluded.person_is, extra_state = excluded.extra_state, "
    "thoughts = excluded.thoughts, response = excluded.response, engine = excluded.engine, "
    "latency_ms = excluded.latency_ms, created_at = excluded.created_at";
constexpr const char* kLoadSessionSql =
    "SELECT id, created_at, last_activity FROM sessions WHERE id = ?1";
constexpr const char* kLoadUtterancesSql =
    "SELECT seq, text, start_ms, end_ms, decode_ms, created_at FROM utterances "
    "WHERE session_id = ?1 ORDER BY seq";
constexpr const char* kLoadThoughtsSql =
    "SELECT utterance_seq, intent, person_is, extra_state, thoughts, response, engine, "
    "latency_ms, created_at FROM thoughts WHERE session_id = ?1 ORDER BY utterance_seq";
// Utterances and thoughts go with their session (ON DELETE CASCADE);
// sqlite3_changes() counts the sessions only.
constexpr const char* kDeleteIdleSql = "DELETE FROM sessions WHERE last_activity < ?1";

// Resets a statement when a use of it ends, whatever the outcome, so the
// next use starts clean and no read transaction is held open.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* s) : s_(s) {}
  ~StmtUse() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

int bind_text(sqlite3_stmt* s, int index, const std::string& text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX)) return SQLITE_TOOBIG;
  // nullptr is SQLITE_STATIC: the string outlives the step that reads it.
  return sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), nullptr);
}

std::string column_text(sqlite3_stmt* s, int col) {
  const unsigned char* p = sqlite3_column_text(s, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(s, col)));
}

// NOT NULL columns take no NaN (SQLite stores it as NULL), and a latency
// of NaN means nothing anyway.
double finite_or_zero(double v) { return std::isfinite(v) ? v : 0.0; }

TimePoint or_now(TimePoint t) { return t == TimePoint{} ? std::chrono::system_clock::now() : t; }

// Binds every value, stopping at the first failure.
int first_error(std::initializer_list<int> rcs) {
  for (int rc : rcs) {
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

int step_done(sqlite3_stmt* s) {
  int rc = sqlite3_step(s);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

}  // namespace

SqliteParams default_sqlite_params() { return SqliteParams{}; }

void SqliteHistoryStore::DbCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void SqliteHistoryStore::StmtFinalizer::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

int SqliteHistoryStore::schema_version() { return static_cast<int>(kMigrations.size()); }

SqliteHistoryStore::SqliteHistoryStore(SqliteParams params) : params_(std::move(params)) {}

SqliteHistoryStore::~SqliteHistoryStore() = default;

Result<std::unique_ptr<SqliteHistoryStore>> SqliteHistoryStore::open(const SqliteParams& params) {
  if (params.path.empty()) return Error::invalid_config("history store: no SQLite path given");
  std::filesystem::path parent = std::filesystem::path(params.path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Error::io("history store: cannot create directory " + parent.string() + ": " +
                       ec.message());
    }
  }
  std::unique_ptr<SqliteHistoryStore> store(new SqliteHistoryStore(params));
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(params.path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  store->db_.reset(raw);  // closed by the deleter even when the open failed
  if (rc != SQLITE_OK) {
    return Error::io("history store: cannot open SQLite database " + params.path + ": " +
                     (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  if (Status s = store->configure_and_migrate(); !s) return std::move(s).take_error();
  if (Status s = store->prepare_all(); !s) return std::move(s).take_error();
  log::info("history store opened",
            {{"backend", "sqlite"}, {"path", params.path}, {"schema_version", schema_version()}});
  return store;
}

Status SqliteHistoryStore::configure_and_migrate() {
  sqlite3* db = db_.get();
  sqlite3_busy_timeout(db, params_.busy_timeout_ms);
  {
    // journal_mode answers with the mode in force; "wal" or we failed.
    Stmt wal;
    if (Status s = prepare(wal, "PRAGMA journal_mode=WAL"); !s) return s;
    int rc = sqlite3_step(wal.get());
    if (rc != SQLITE_ROW) return error_from(rc, "switching to WAL mode");
    if (column_text(wal.get(), 0) != "wal") {
      return Error::io("history store: SQLite refused WAL mode for " + params_.path);
    }
  }
  if (Status s = exec("PRAGMA synchronous=FULL", "setting synchronous"); !s) return s;
  if (Status s = exec("PRAGMA foreign_keys=ON", "enabling foreign keys"); !s) return s;

  // Each migration runs in its own IMMEDIATE transaction that re-reads the
  // version, so two processes opening the same file at once apply it once.
  for (;;) {
    if (Status s = exec("BEGIN IMMEDIATE", "starting migration"); !s) return s;
    Stmt version;
    if (Status s = prepare(version, "PRAGMA user_version"); !s) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    }
    int rc = sqlite3_step(version.get());
    if (rc != SQLITE_ROW) {
      Error err = error_from(rc, "reading the schema version");
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return err;
    }
    int64_t v = sqlite3_column_int64(version.get(), 0);
    version.reset();
    if (v >= schema_version()) {
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      if (v > schema_version()) {
        return Error::invalid_config("history store: " + params_.path + " has schema version " +
                                     std::to_string(v) + ", newer than this build's " +
                                     std::to_string(schema_version()));
      }
      break;
    }
    const std::string bump = "PRAGMA user_version = " + std::to_string(v + 1);
    Status s = exec(kMigrations[static_cast<std::size_t>(v)], "applying a schema migration");
    if (s) s = exec(bump.c_str(), "recording the schema version");
    if (s) s = exec("COMMIT", "committing a schema migration");
    if (!s) {
      if (sqlite3_get_autocommit(db) == 0) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    }
    log::info("history store migrated", {{"backend", "sqlite"}, {"schema_version", v + 1}});
  }
  // Set after the migrations: they may need to grow the file.
  if (params_.max_page_count > 0) {
    const std::string sql = "PRAGMA max_page_count = " + std::to_string(params_.max_page_count);
    Stmt cap;
    if (Status s = prepare(cap, sql.c_str()); !s) return s;
    int rc = sqlite3_step(cap.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error_from(rc, "capping the database size");
  }
  return {};
}

Status SqliteHistoryStore::prepare_all() {
  Status s = prepare(touch_, kTouchSql);
  if (s) s = prepare(ensure_session_, kEnsureSessionSql);
  if (s) s = prepare(save_utterance_, kSaveUtteranceSql);
  if (s) s = prepare(save_thoughts_, kSaveThoughtsSql);
  if (s) s = prepare(load_session_, kLoadSessionSql);
  if (s) s = prepare(load_utterances_, kLoadUtterancesSql);
  if (s) s = prepare(load_thoughts_, kLoadThoughtsSql);
  if (s) s = prepare(delete_idle_, kDeleteIdleSql);
  return s;
}

Status SqliteHistoryStore::prepare(Stmt& out, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  out.reset(raw);
  if (rc != SQLITE_OK) return error_from(rc, "preparing a statement");
  return {};
}

Status SqliteHistoryStore::exec(const char* sql, const char* what) {
  int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error_from(rc, what);
  return {};
}

Error SqliteHistoryStore::error_from(int rc, const std::string& what) const {
  const std::string detail = sqlite3_errmsg(db_.get());
  switch (rc & 0xff) {  // the primary code of an extended result code
    case SQLITE_FULL:
      return Error::io("history store: disk full " + what + " (" + params_.path + ")");
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PERM:
      return Error::io("history store: I/O error " + what + " (" + params_.path + "): " + detail);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error{ErrorCode::kUnavailable,
                   "history store: database busy " + what + " (locked by another process)",
                   std::chrono::seconds{1}};
    case SQLITE_TOOBIG:
      return Error::too_large("history store: value too large " + what);
    default:
      return Error::internal("history store: SQLite error " + what + ": " + detail);
  }
}

template <typename Body>
Status SqliteHistoryStore::write_transaction(const std::string& what, Body&& body) {
  std::lock_guard lock(mu_);
  int rc = sqlite3_exec(db_.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) rc = body();
  if (rc == SQLITE_OK) rc = sqlite3_exec(db_.get(), "COMMIT", nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    last_write_error_.clear();
    return {};
  }
  Error err = error_from(rc, what);  // before ROLLBACK replaces the message
  // SQLite may already have rolled back (e.g. on SQLITE_FULL); if not, undo
  // whatever part of the transaction ran.
  if (sqlite3_get_autocommit(db_.get()) == 0) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  last_write_error_ = err.message;
  log::warn("history store write failed",
            {{"backend", "sqlite"}, {"error", error_code_name(err.code)}, {"detail", err.message}});
  return err;
}

bool SqliteHistoryStore::ready(std::string& detail) const {
  std::lock_guard lock(mu_);
  if (!last_write_error_.empty()) {
    detail = last_write_error_;
    return false;
  }
  detail = "sqlite " + params_.path;
  return true;
}

Status SqliteHistoryStore::touch_session(const std::string& id, TimePoint now) {
  return write_transaction("touching a session", [&] {
    StmtUse q(touch_.get());
    int rc = first_error(
        {bind_text(q.get(), 1, id), sqlite3_bind_int64(q.get(), 2, to_epoch_ms(or_now(now)))});
    return rc != SQLITE_OK ? rc : step_done(q.get());
  });
}

Status SqliteHistoryStore::save_utterance(const std::string& session_id, const UtteranceRecord& u) {
  const int64_t created = to_epoch_ms(or_now(u.created_at));
  return write_transaction("writing utterance " + std::to_string(u.seq), [&] {
    {
      StmtUse q(ensure_session_.get());
      int rc =
          first_error({bind_text(q.get(), 1, session_id), sqlite3_bind_int64(q.get(), 2, created)});
      if (rc == SQLITE_OK) rc = step_done(q.get());
      if (rc != SQLITE_OK) return rc;
    }
    StmtUse q(save_utterance_.get());
    int rc = first_error({bind_text(q.get(), 1, session_id), sqlite3_bind_int64(q.get(), 2, u.seq),
                          bind_text(q.get(), 3, u.text), sqlite3_bind_int64(q.get(), 4, u.start_ms),
                          sqlite3_bind_int64(q.get(), 5, u.end_ms),
                          sqlite3_bind_double(q.get(), 6, finite_or_zero(u.decode_ms)),
                          sqlite3_bind_int64(q.get(), 7, created)});
    return rc != SQLITE_OK ? rc : step_done(q.get());
  });
}

Status SqliteHistoryStore::save_thoughts(const std::string& session_id, const ThoughtsRecord& t) {
  const int64_t created = to_epoch_ms(or_now(t.created_at));
  return write_transaction(
      "writing thoughts for utterance " + std::to_string(t.utterance_seq), [&] {
        {
          StmtUse q(ensure_session_.get());
          int rc = first_error(
              {bind_text(q.get(), 1, session_id), sqlite3_bind_int64(q.get(), 2, created)});
          if (rc == SQLITE_OK) rc = step_done(q.get());
          if (rc != SQLITE_OK) return rc;
        }
        StmtUse q(save_thoughts_.get());
        int rc = first_error(
            {bind_text(q.get(), 1, session_id), sqlite3_bind_int64(q.get(), 2, t.utterance_seq),
             bind_text(q.get(), 3, t.intent), bind_text(q.get(), 4, t.person_is),
             bind_text(q.get(), 5, t.extra_state), bind_text(q.get(), 6, t.thoughts),
             bind_text(q.get(), 7, t.response), bind_text(q.get(), 8, t.engine),
             sqlite3_bind_double(q.get(), 9, finite_or_zero(t.latency_ms)),
             sqlite3_bind_int64(q.get(), 10, created)});
        return rc != SQLITE_OK ? rc : step_done(q.get());
      });
}

Result<std::optional<SessionHistory>> SqliteHistoryStore::load(
    const std::string& session_id) const {
  std::lock_guard lock(mu_);
  sqlite3* db = db_.get();
  // One read transaction: the three selects see the same snapshot. It ends
  // after load_locked() has reset its statements, so it always can.
  if (int rc = sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr); rc != SQLITE_OK) {
    return error_from(rc, "reading a session");
  }
  auto out = load_locked(session_id);
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  return out;
}

Result<std::optional<SessionHistory>> SqliteHistoryStore::load_locked(
    const std::string& session_id) const {
  SessionHistory h;
  {
    StmtUse q(load_session_.get());
    int rc = bind_text(q.get(), 1, session_id);
    if (rc == SQLITE_OK) rc = sqlite3_step(q.get());
    if (rc == SQLITE_DONE) return std::optional<SessionHistory>{};
    if (rc != SQLITE_ROW) return error_from(rc, "reading a session");
    h.session.id = column_text(q.get(), 0);
    h.session.created_at = from_epoch_ms(sqlite3_column_int64(q.get(), 1));
    h.session.last_activity = from_epoch_ms(sqlite3_column_int64(q.get(), 2));
  }
  {
    StmtUse q(load_utterances_.get());
    int rc = bind_text(q.get(), 1, session_id);
    while (rc == SQLITE_OK && (rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      UtteranceRecord u;
      u.seq = sqlite3_column_int64(q.get(), 0);
      u.text = column_text(q.get(), 1);
      u.start_ms = sqlite3_column_int64(q.get(), 2);
      u.end_ms = sqlite3_column_int64(q.get(), 3);
      u.decode_ms = sqlite3_column_double(q.get(), 4);
      u.created_at = from_epoch_ms(sqlite3_column_int64(q.get(), 5));
      h.utterances.push_back(std::move(u));
      rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) return error_from(rc, "reading utterances");
  }
  {
    StmtUse q(load_thoughts_.get());
    int rc = bind_text(q.get(), 1, session_id);
    while (rc == SQLITE_OK && (rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      ThoughtsRecord t;
      t.utterance_seq = sqlite3_column_int64(q.get(), 0);
      t.intent = column_text(q.get(), 1);
      t.person_is = column_text(q.get(), 2);
      t.extra_state = column_text(q.get(), 3);
      t.thoughts = column_text(q.get(), 4);
      t.response = column_text(q.get(), 5);
      t.engine = column_text(q.get(), 6);
      t.latency_ms = sqlite3_column_double(q.get(), 7);
      t.created_at = from_epoch_ms(sqlite3_column_int64(q.get(), 8));
      h.thoughts.push_back(std::move(t));
      rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) return error_from(rc, "reading thoughts");
  }
  return std::optional<SessionHistory>{std::move(h)};
}

Result<std::size_t> SqliteHistoryStore::delete_idle(TimePoint cutoff) {
  std::size_t deleted = 0;
  Status s = write_transaction("deleting idle sessions", [&] {
    StmtUse q(delete_idle_.get());
    int rc = sqlite3_bind_int64(q.get(), 1, to_epoch_ms(cutoff));
    if (rc == SQLITE_OK) rc = step_done(q.get());
    if (rc == SQLITE_OK) deleted = static_cast<std::size_t>(sqlite3_changes64(db_.get()));
    return rc;
  });
  if (!s) return std::move(s).take_error();
  return deleted;
}

}  // namespace scribepod::store
