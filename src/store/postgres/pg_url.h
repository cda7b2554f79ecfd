// Where a PostgreSQL connection URL points, without its secrets: used for
// describe(), logs and "unreachable at host:port" messages. Parsing is
// libpq's own (PQconninfoParse), so we accept exactly what libpq accepts:
// postgresql://user:password@host:port/db?param=value or key=value pairs.
#pragma once

#include <string>

#include "core/result.h"

namespace scribepod::store {

struct PgTarget {
  std::string host = "localhost";  // a name, an address or a socket dir
  std::string port = "5432";
  std::string dbname;
  std::string user;

  std::string host_port() const { return host + ":" + port; }
  // postgresql://user@host:port/db: never the password.
  std::string redacted_url() const;
};

// kInvalidConfig when libpq can't parse it; the message never repeats the
// URL (it may hold a password).
Result<PgTarget> parse_pg_url(const std::string& url);

}  // namespace scribepod::store
