#include "store/open_store.h"

#include "store/postgres/postgres_history_store.h"
#include "store/sqlite/sqlite_history_store.h"

namespace scribepod::store {

StoreParams default_store_params() { return StoreParams{}; }

Result<std::unique_ptr<HistoryStore>> open_store(const StoreParams& params) {
  if (params.backend == "sqlite") {
    if (params.sqlite_path.empty()) {
      return Error::invalid_config("store.sqlite_path must be set for the sqlite history store");
    }
    SqliteParams p;
    p.path = params.sqlite_path;
    p.busy_timeout_ms = params.sqlite_busy_timeout_ms;
    auto s = SqliteHistoryStore::open(p);
    if (!s) return std::move(s).take_error();
    return std::unique_ptr<HistoryStore>(std::move(s).value());
  }
  if (params.backend == "postgres") {
    if (params.postgres_url.empty()) {
      return Error::invalid_config("store.postgres_url must be set for the postgres history store");
    }
    PostgresParams p;
    p.url = params.postgres_url;
    p.connect_timeout_s = params.postgres_connect_timeout_s;
    p.statement_timeout_ms = params.postgres_statement_timeout_ms;
    auto s = PostgresHistoryStore::open(p);
    if (!s) return std::move(s).take_error();
    return std::unique_ptr<HistoryStore>(std::move(s).value());
  }
  return Error::invalid_config("store.backend must be \"sqlite\" or \"postgres\", not \"" +
                               params.backend + "\"");
}

}  // namespace scribepod::store
