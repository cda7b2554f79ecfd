// PostgresServer: a real, throwaway PostgreSQL server for tests, on
// loopback. start() runs initdb into a fresh temporary directory (first
// time only) and starts the server on 127.0.0.1 at a free port, with its
// unix socket in that directory; stop() is `pg_ctl stop -m fast`; restart()
// keeps the data and the port. The destructor stops the server and removes
// the directory, so a failing test leaves nothing behind (a test process
// killed outright can leave a server running: `pg_ctl stop` it by hand).
//
// PostgreSQL refuses to run as root: when we are root, initdb and the
// server run as the `postgres` system user (runuser), and the directory is
// handed to it. fsync is off: tests need speed, not power-loss safety (a
// clean stop still checkpoints everything, so restarts lose nothing).
//
// The first initdb on a machine also leaves a pristine copy in
// $TMPDIR/scribepod-pg15-template-v2-<uid>; later servers copy it instead of
// running initdb again (delete it to force a fresh initdb).
//
// The server trusts every local connection; url() has no password.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace scribepod::testing {

class PostgresServer {
 public:
  PostgresServer() = default;
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Whether the server binaries are installed; `why` says what's missing.
  static bool available(std::string& why);

  Status start();
  Status stop();
  Status restart();
  bool running() const { return running_; }

  int port() const { return port_; }
  // postgresql://postgres@127.0.0.1:<port>/postgres
  std::string url() const;
  const std::string& dir() const { return dir_; }
  // The last lines of the server's log, for failure messages.
  std::string log_tail() const;

 private:
  Status init();
  Status run(const std::vector<std::string>& argv) const;

  std::string dir_;  // temp dir: data/, server.log, the unix socket
  int port_ = 0;
  bool running_ = false;
};

}  // namespace scribepod::testing
