// open_store: builds the configured HistoryStore. `backend` is "sqlite" (the
// embedded default: a file, its parent directory created) or "postgres" (a
// libpq connection URL such as postgresql://user@127.0.0.1:5432/scribepod).
// Opening applies the schema migrations; it fails with kInvalidConfig for an
// unknown backend or a missing path/URL, kIo when the SQLite file can't be
// opened, and kUnavailable when PostgreSQL can't be reached.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "store/history_store.h"

namespace scribepod::store {

struct StoreParams {
  std::string backend = "sqlite";  // "sqlite" | "postgres"
  std::string sqlite_path;         // e.g. <data_dir>/scribepod.db
  std::string postgres_url;        // secret: may hold a password
  // SQLite: how long a writer waits for another connection's lock.
  int sqlite_busy_timeout_ms = 5000;
  // PostgreSQL: how long a (re)connect may take, and one statement.
  int postgres_connect_timeout_s = 5;
  int postgres_statement_timeout_ms = 10000;
};

StoreParams default_store_params();

Result<std::unique_ptr<HistoryStore>> open_store(const StoreParams& params);

}  // namespace scribepod::store
