#include "postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace scribepod::testing {
namespace {

const char* kBinDir = "/usr/lib/postgresql/15/bin";

std::string bin(const char* tool) { return std::string(kBinDir) + "/" + tool; }

bool is_root() { return geteuid() == 0; }

// A port the kernel just called free. Another process could take it before
// the server binds; pg_ctl start then fails loudly rather than flakily.
int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

PostgresServer::~PostgresServer() {
  if (running_) static_cast<void>(stop());
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool PostgresServer::available(std::string& why) {
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    if (::access(bin(tool).c_str(), X_OK) != 0) {
      why = bin(tool) + " is not installed (apt-get install postgresql-15)";
      return false;
    }
  }
  if (is_root() && ::getpwnam("postgres") == nullptr) {
    why = "running as root and there is no `postgres` user to run the server as";
    return false;
  }
  return true;
}

std::string PostgresServer::url() const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

std::string PostgresServer::log_tail() const {
  std::ifstream in(dir_ + "/server.log");
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  std::string out;
  for (std::size_t i = lines.size() > 15 ? lines.size() - 15 : 0; i < lines.size(); ++i) {
    out += lines[i] + "\n";
  }
  return out;
}

// Runs a server tool (as `postgres` when we are root), its output appended
// to <dir>/tools.log.
Status PostgresServer::run(const std::vector<std::string>& argv) const {
  std::vector<std::string> full;
  if (is_root()) full = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> cargv;
  for (std::string& a : full) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const std::string log_path = dir_ + "/tools.log";

  pid_t pid = ::fork();
  if (pid < 0) return Error::io(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::ifstream in(log_path);
  std::stringstream text;
  text << in.rdbuf();
  return Error::io(full[is_root() ? 4 : 0] + " failed (status " + std::to_string(status) + "):\n" +
                   text.str() + "\nserver log:\n" + log_tail());
}

Status PostgresServer::init() {
  std::string templ = (std::filesystem::temp_directory_path() / "scribepod-pg-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return Error::io(std::string("mkdtemp: ") + std::strerror(errno));
  }
  dir_ = templ;
  if (is_root()) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Error::io("cannot hand " + dir_ + " to the postgres user");
    }
  }
  port_ = free_loopback_port();
  if (port_ == 0) return Error::io("no free loopback port");

  // initdb costs seconds on a busy machine and every test process needs a
  // cluster, so the first one keeps a pristine copy that later ones copy
  // (cp -a is faster). It is published by an atomic rename, so a reader
  // sees a complete template or none. Bump the "v2" when initdb's
  // arguments change. 1 MB WAL segments keep the copy small (23 MB, not 39).
  const std::string templ_dir = (std::filesystem::temp_directory_path() /
                                 ("scribepod-pg15-template-v2-" + std::to_string(geteuid())))
                                    .string();
  if (std::filesystem::exists(templ_dir + "/data/PG_VERSION")) {
    if (run({"/bin/cp", "-a", templ_dir + "/data", dir_ + "/data"})) return {};
  }
  if (Status s = run({bin("initdb"), "-D", dir_ + "/data", "-U", "postgres", "-A", "trust", "-E",
                      "UTF8", "--locale=C", "--no-sync", "--no-instructions", "--wal-segsize=1"});
      !s) {
    return s;
  }
  const std::string staging = dir_ + "/template";
  if (run({"/bin/mkdir", staging}) && run({"/bin/cp", "-a", dir_ + "/data", staging + "/data"})) {
    std::error_code ec;
    std::filesystem::rename(staging, templ_dir, ec);  // loses the race harmlessly
  }
  return {};
}

Status PostgresServer::start() {
  if (running_) return {};
  if (dir_.empty()) {
    if (Status s = init(); !s) return s;
  }
  const std::string options = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " +
                              dir_ + " -c fsync=off -c full_page_writes=off";
  Status s = run({bin("pg_ctl"), "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w", "-t", "30",
                  "-o", options, "start"});
  if (s) running_ = true;
  return s;
}

Status PostgresServer::stop() {
  if (!running_) return {};
  Status s = run({bin("pg_ctl"), "-D", dir_ + "/data", "-w", "-t", "30", "-m", "fast", "stop"});
  if (s) running_ = false;
  return s;
}

Status PostgresServer::restart() {
  if (Status s = stop(); !s) return s;
  return start();
}

}  // namespace scribepod::testing
