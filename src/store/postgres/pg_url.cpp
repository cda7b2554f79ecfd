#include "store/postgres/pg_url.h"

#include <libpq-fe.h>

#include <memory>
#include <string_view>

namespace scribepod::store {

std::string PgTarget::redacted_url() const {
  std::string out = "postgresql://";
  if (!user.empty()) out += user + "@";
  out += host_port() + "/" + dbname;
  return out;
}

Result<PgTarget> parse_pg_url(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* raw = PQconninfoParse(url.c_str(), &err);
  if (raw == nullptr) {
    // libpq's message may quote the string; keep it out of ours.
    if (err != nullptr) PQfreemem(err);
    return Error::invalid_config("store.postgres_url is not a valid PostgreSQL connection URL");
  }
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(raw, &PQconninfoFree);
  PgTarget t;
  for (PQconninfoOption* o = raw; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    std::string_view key = o->keyword;
    if (key == "host" || (key == "hostaddr" && t.host == "localhost")) t.host = o->val;
    if (key == "port") t.port = o->val;
    if (key == "dbname") t.dbname = o->val;
    if (key == "user") t.user = o->val;
  }
  if (t.dbname.empty()) t.dbname = t.user;  // libpq's own default
  return t;
}

}  // namespace scribepod::store
