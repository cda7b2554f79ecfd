#include "store/postgres/postgres_history_store.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <cmath>
#include <vector>

#include "store/time_ms.h"
#include "telemetry/log.h"

namespace scribepod::store {
namespace {

// Migration i (0-based) takes the schema from version i to i + 1; the
// applied versions are rows of schema_migrations. Append only.
constexpr std::array<const char*, 1> kMigrations = {
    R"sql(
CREATE TABLE sessions (
  id            text PRIMARY KEY,
  created_at    bigint NOT NULL,
  last_activity bigint NOT NULL
);
CREATE INDEX sessions_by_last_activity ON sessions(last_activity);
CREATE TABLE utterances (
  session_id text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq        bigint NOT NULL,
  text       text NOT NULL,
  start_ms   bigint NOT NULL,
  end_ms     bigint NOT NULL,
  decode_ms  double precision NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (session_id, seq)
);
CREATE TABLE thoughts (
  session_id    text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  utterance_seq bigint NOT NULL,
  intent        text NOT NULL,
  person_is     text NOT NULL,
  extra_state   text NOT NULL,
  thoughts      text NOT NULL,
  response      text NOT NULL,
  engine        text NOT NULL,
  latency_ms    double precision NOT NULL,
  created_at    bigint NOT NULL,
  PRIMARY KEY (session_id, utterance_seq)
);
)sql",
};

// Serialises migrations across processes (any constant; "scrbpod1").
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7310012361216438321)";

constexpr const char* kTouchSql =
    "INSERT INTO sessions(id, created_at, last_activity) VALUES($1, $2, $2) "
    "ON CONFLICT (id) DO UPDATE "
    "SET last_activity = GREATEST(sessions.last_activity, EXCLUDED.last_activity)";
constexpr const char* kEnsureSessionSql =
    "INSERT INTO sessions(id, created_at, last_activity) VALUES($1, $2, $2) "
    "ON CONFLICT (id) DO NOTHING";
constexpr const char* kSaveUtteranceSql =
    "INSERT INTO utterances(session_id, seq, text, start_ms, end_ms, decode_ms, created_at) "
    "VALUES($1, $2, $3, $4, $5, $6, $7) "
    "ON CONFLICT (session_id, seq) DO UPDATE SET text = EXCLUDED.text, "
    "start_ms = EXCLUDED.start_ms, end_ms = EXCLUDED.end_ms, decode_ms = EXCLUDED.decode_ms, "
    "created_at = EXCLUDED.created_at";
constexpr const char* kSaveThoughtsSql =
    "INSERT INTO thoughts(session_id, utterance_seq, intent, person_is, extra_state, thoughts, "
    "response, engine, latency_ms, created_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT (session_id, utterance_seq) DO UPDATE SET intent = EXCLUDED.intent, "
    "person_is = EXCLUDED.person_is, extra_state = EXCLUDED.extra_state, "
    "thoughts = EXCLUDED.thoughts, response = EXCLUDED.response, engine = EXCLUDED.engine, "
    "latency_ms = EXCLUDED.latency_ms, created_at = EXCLUDED.created_at";
constexpr const char* kLoadSessionSql =
    "SELECT id, created_at, last_activity FROM sessions WHERE id = $1";
constexpr const char* kLoadUtterancesSql =
    "SELECT seq, text, start_ms, end_ms, decode_ms, created_at FROM utterances "
    "WHERE session_id = $1 ORDER BY seq";
constexpr const char* kLoadThoughtsSql =
    "SELECT utterance_seq, intent, person_is, extra_state, thoughts, response, engine, "
    "latency_ms, created_at FROM thoughts WHERE session_id = $1 ORDER BY utterance_seq";
constexpr const char* kDeleteIdleSql = "DELETE FROM sessions WHERE last_activity < $1";

struct ResultClear {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgRes = std::unique_ptr<PGresult, ResultClear>;

TimePoint or_now(TimePoint t) { return t == TimePoint{} ? std::chrono::system_clock::now() : t; }
std::string ms_text(TimePoint t) { return std::to_string(to_epoch_ms(or_now(t))); }
// Shortest text that reads back as the same double; NOT NULL columns take
// no NaN, and a latency of NaN means nothing anyway.
std::string double_text(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "0"; }

int64_t int_at(const PGresult* r, int row, int col) {
  const char* p = PQgetvalue(r, row, col);
  int64_t v = 0;
  std::from_chars(p, p + PQgetlength(r, row, col), v);
  return v;
}
double double_at(const PGresult* r, int row, int col) {
  const char* p = PQgetvalue(r, row, col);
  double v = 0;
  std::from_chars(p, p + PQgetlength(r, row, col), v);
  return v;
}
std::string text_at(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
}

// Maps a failed statement to our error codes by SQLSTATE class.
Error classify(const PGresult* r, PGconn* conn, const std::string& what, const PgTarget& target) {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  const std::string detail = r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn);
  if (PQstatus(conn) == CONNECTION_BAD || sqlstate.rfind("08", 0) == 0 ||
      sqlstate.rfind("57P", 0) == 0) {
    return Error{ErrorCode::kUnavailable,
                 "history store: PostgreSQL unreachable at " + target.host_port(),
                 std::chrono::seconds{1}};
  }
  if (sqlstate == "53100") {
    return Error::io("history store: PostgreSQL disk full " + what);
  }
  if (sqlstate.rfind("53", 0) == 0 || sqlstate == "40001" || sqlstate == "40P01") {
    return Error{ErrorCode::kUnavailable, "history store: PostgreSQL busy " + what,
                 std::chrono::seconds{1}};
  }
  if (sqlstate.rfind("22", 0) == 0) {  // data exception, e.g. text that is not UTF-8
    return Error::bad_request("history store: PostgreSQL rejected the data " + what);
  }
  if (sqlstate == "57014") {
    return Error{ErrorCode::kUpstreamTimeout, "history store: PostgreSQL timed out " + what, {}};
  }
  return Error::internal("history store: PostgreSQL error " + what + ": " + detail);
}

// One use of the connection: runs parameterised statements and turns
// failures into Errors.
class PgSession {
 public:
  PgSession(PGconn* conn, std::string what, const PgTarget& target)
      : conn_(conn), what_(std::move(what)), target_(target) {}

  Result<PgRes> query(const char* sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const std::string& p : params) values.push_back(p.c_str());
    PgRes r(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(),
                         nullptr, nullptr, 0));
    ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    return classify(r.get(), conn_, what_, target_);
  }
  Status command(const char* sql, const std::vector<std::string>& params = {}) {
    auto r = query(sql, params);
    if (!r) return std::move(r).take_error();
    return {};
  }
  // Constant multi-statement SQL (migrations) has no parameters.
  Status script(const char* sql) {
    PgRes r(PQexec(conn_, sql));
    if (r && PQresultStatus(r.get()) == PGRES_COMMAND_OK) return {};
    return classify(r.get(), conn_, what_, target_);
  }
  void rollback_if_open() {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PgRes(PQexec(conn_, "ROLLBACK"));
  }

 private:
  PGconn* conn_;
  std::string what_;
  const PgTarget& target_;
};

// Server notices ("relation already exists, skipping") go to the debug log,
// not to stderr.
void on_notice(void*, const char* message) { log::debug("postgres notice", {{"text", message}}); }

}  // namespace

PostgresParams default_postgres_params() { return PostgresParams{}; }

void PostgresHistoryStore::ConnCloser::operator()(pg_conn* c) const { PQfinish(c); }

int PostgresHistoryStore::schema_version() { return static_cast<int>(kMigrations.size()); }

PostgresHistoryStore::PostgresHistoryStore(PostgresParams params, PgTarget target)
    : params_(std::move(params)), target_(std::move(target)) {}

PostgresHistoryStore::~PostgresHistoryStore() = default;

Result<std::unique_ptr<PostgresHistoryStore>> PostgresHistoryStore::open(
    const PostgresParams& params) {
  auto target = parse_pg_url(params.url);
  if (!target) return std::move(target).take_error();
  std::unique_ptr<PostgresHistoryStore> store(
      new PostgresHistoryStore(params, std::move(target).value()));
  std::lock_guard lock(store->mu_);
  if (!store->connect_locked()) return store->unreachable();
  if (Status s = store->migrate_locked(); !s) return std::move(s).take_error();
  log::info(
      "history store opened",
      {{"backend", "postgres"}, {"url", store->describe()}, {"schema_version", schema_version()}});
  return store;
}

Error PostgresHistoryStore::unreachable() const {
  return Error{ErrorCode::kUnavailable,
               "history store: PostgreSQL unreachable at " + target_.host_port(),
               std::chrono::seconds{1}};
}

bool PostgresHistoryStore::connect_locked() const {
  if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return true;
  if (conn_) {
    PQreset(conn_.get());  // same parameters as the first connect
  } else {
    // The URL is expanded in place of "dbname"; the keys after it override
    // what it says about timeouts.
    const std::string connect_timeout = std::to_string(params_.connect_timeout_s);
    const std::string options =
        "-c statement_timeout=" + std::to_string(params_.statement_timeout_ms);
    const std::array<const char*, 5> keys = {"dbname", "connect_timeout", "options",
                                             "application_name", nullptr};
    const std::array<const char*, 5> values = {params_.url.c_str(), connect_timeout.c_str(),
                                               options.c_str(), "scribepod", nullptr};
    conn_.reset(PQconnectdbParams(keys.data(), values.data(), 1));
    if (conn_) PQsetNoticeProcessor(conn_.get(), &on_notice, nullptr);
  }
  const bool ok = conn_ && PQstatus(conn_.get()) == CONNECTION_OK;
  if (ok != reachable_) {
    reachable_ = ok;
    if (ok) {
      log::info("history store reconnected",
                {{"backend", "postgres"}, {"at", target_.host_port()}});
    } else {
      // libpq's message names host and user, never the password.
      log::warn("history store: PostgreSQL unreachable",
                {{"at", target_.host_port()},
                 {"detail", conn_ ? PQerrorMessage(conn_.get()) : "out of memory"}});
    }
  }
  return ok;
}

Status PostgresHistoryStore::migrate_locked() {
  PgSession s(conn_.get(), "applying schema migrations", target_);
  Status st = s.command("BEGIN");
  if (st) st = s.command(kMigrationLock);
  if (st) {
    st = s.command(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
        "applied_at bigint NOT NULL)");
  }
  int64_t current = 0;
  if (st) {
    auto r = s.query("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (r) {
      current = int_at(r->get(), 0, 0);
    } else {
      st = std::move(r).take_error();
    }
  }
  if (st && current > schema_version()) {
    st = Error::invalid_config("history store: the PostgreSQL schema version " +
                               std::to_string(current) + " is newer than this build's " +
                               std::to_string(schema_version()));
  }
  for (int64_t v = current; st && v < schema_version(); ++v) {
    st = s.script(kMigrations[static_cast<std::size_t>(v)]);
    if (st) {
      st = s.command("INSERT INTO schema_migrations(version, applied_at) VALUES($1, $2)",
                     {std::to_string(v + 1), ms_text({})});
    }
  }
  if (st) st = s.command("COMMIT");
  if (!st) {
    s.rollback_if_open();
    return st;
  }
  if (current < schema_version()) {
    log::info("history store migrated",
              {{"backend", "postgres"}, {"schema_version", schema_version()}});
  }
  return {};
}

template <typename T, typename Body>
Result<T> PostgresHistoryStore::run(const char* what, Body&& body) const {
  std::lock_guard lock(mu_);
  // The second pass runs only when the connection broke during the first:
  // every write is an idempotent upsert, so repeating it is safe.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!connect_locked()) return unreachable();
    PgSession s(conn_.get(), what, target_);
    Result<T> r = body(s);
    if (r.ok()) return r;
    if (PQstatus(conn_.get()) != CONNECTION_BAD) {
      s.rollback_if_open();
      log::warn("history store statement failed",
                {{"backend", "postgres"}, {"detail", r.error().message}});
      return r;
    }
    log::warn("history store lost its PostgreSQL connection; reconnecting",
              {{"at", target_.host_port()}, {"attempt", attempt + 1}});
  }
  return unreachable();
}

bool PostgresHistoryStore::ready(std::string& detail) const {
  Status s = run<void>("checking the connection",
                       [](PgSession& session) { return session.command("SELECT 1"); });
  if (!s) {
    detail = s.error().message;
    return false;
  }
  detail = "postgres " + target_.redacted_url();
  return true;
}

Status PostgresHistoryStore::touch_session(const std::string& id, TimePoint now) {
  return run<void>("touching a session", [&](PgSession& s) {
    return s.command(kTouchSql, {id, ms_text(now)});
  });
}

Status PostgresHistoryStore::save_utterance(const std::string& session_id,
                                            const UtteranceRecord& u) {
  const std::string created = ms_text(u.created_at);
  const std::string what = "writing utterance " + std::to_string(u.seq);
  return run<void>(what.c_str(), [&](PgSession& s) {
    Status st = s.command("BEGIN");
    if (st) st = s.command(kEnsureSessionSql, {session_id, created});
    if (st) {
      st = s.command(kSaveUtteranceSql,
                     {session_id, std::to_string(u.seq), u.text, std::to_string(u.start_ms),
                      std::to_string(u.end_ms), double_text(u.decode_ms), created});
    }
    if (st) st = s.command("COMMIT");
    return st;
  });
}

Status PostgresHistoryStore::save_thoughts(const std::string& session_id, const ThoughtsRecord& t) {
  const std::string created = ms_text(t.created_at);
  const std::string what = "writing thoughts for utterance " + std::to_string(t.utterance_seq);
  return run<void>(what.c_str(), [&](PgSession& s) {
    Status st = s.command("BEGIN");
    if (st) st = s.command(kEnsureSessionSql, {session_id, created});
    if (st) {
      st = s.command(kSaveThoughtsSql, {session_id, std::to_string(t.utterance_seq), t.intent,
                                        t.person_is, t.extra_state, t.thoughts, t.response,
                                        t.engine, double_text(t.latency_ms), created});
    }
    if (st) st = s.command("COMMIT");
    return st;
  });
}

Result<std::optional<SessionHistory>> PostgresHistoryStore::load(
    const std::string& session_id) const {
  using Out = Result<std::optional<SessionHistory>>;
  return run<std::optional<SessionHistory>>("reading a session", [&](PgSession& s) -> Out {
    // One snapshot for the three selects.
    if (Status st = s.command("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !st) {
      return std::move(st).take_error();
    }
    auto session = s.query(kLoadSessionSql, {session_id});
    if (!session) return std::move(session).take_error();
    if (PQntuples(session->get()) == 0) {
      if (Status st = s.command("COMMIT"); !st) return std::move(st).take_error();
      return std::optional<SessionHistory>{};
    }
    SessionHistory h;
    h.session.id = text_at(session->get(), 0, 0);
    h.session.created_at = from_epoch_ms(int_at(session->get(), 0, 1));
    h.session.last_activity = from_epoch_ms(int_at(session->get(), 0, 2));

    auto utterances = s.query(kLoadUtterancesSql, {session_id});
    if (!utterances) return std::move(utterances).take_error();
    const PGresult* ur = utterances->get();
    for (int i = 0; i < PQntuples(ur); ++i) {
      UtteranceRecord u;
      u.seq = int_at(ur, i, 0);
      u.text = text_at(ur, i, 1);
      u.start_ms = int_at(ur, i, 2);
      u.end_ms = int_at(ur, i, 3);
      u.decode_ms = double_at(ur, i, 4);
      u.created_at = from_epoch_ms(int_at(ur, i, 5));
      h.utterances.push_back(std::move(u));
    }
    auto thoughts = s.query(kLoadThoughtsSql, {session_id});
    if (!thoughts) return std::move(thoughts).take_error();
    const PGresult* tr = thoughts->get();
    for (int i = 0; i < PQntuples(tr); ++i) {
      ThoughtsRecord t;
      t.utterance_seq = int_at(tr, i, 0);
      t.intent = text_at(tr, i, 1);
      t.person_is = text_at(tr, i, 2);
      t.extra_state = text_at(tr, i, 3);
      t.thoughts = text_at(tr, i, 4);
      t.response = text_at(tr, i, 5);
      t.engine = text_at(tr, i, 6);
      t.latency_ms = double_at(tr, i, 7);
      t.created_at = from_epoch_ms(int_at(tr, i, 8));
      h.thoughts.push_back(std::move(t));
    }
    if (Status st = s.command("COMMIT"); !st) return std::move(st).take_error();
    return std::optional<SessionHistory>{std::move(h)};
  });
}

Result<std::size_t> PostgresHistoryStore::delete_idle(TimePoint cutoff) {
  return run<std::size_t>("deleting idle sessions", [&](PgSession& s) -> Result<std::size_t> {
    auto r = s.query(kDeleteIdleSql, {std::to_string(to_epoch_ms(cutoff))});
    if (!r) return std::move(r).take_error();
    const char* n = PQcmdTuples(r->get());
    std::size_t deleted = 0;
    std::from_chars(n, n + std::char_traits<char>::length(n), deleted);
    return deleted;
  });
}

}  // namespace scribepod::store
