// ServerProcess: runs the real `scribepod` binary as a child process for the
// integration tests.
//
// The child gets a clean environment (only the variables a test names, so an
// API_KEY in the developer's shell cannot leak in), a fresh temporary working
// directory (so no stray .env is read), stdin from /dev/null, and stdout and
// stderr captured into files that the test can read at any time. The
// destructor kills the child if it is still running and removes the
// temporary directory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace scribepod::testing {

using Env = std::map<std::string, std::string>;
using namespace std::chrono_literals;

// Path of the binary under test (from the build; overridable with
// $SCRIBEPOD_BINARY).
std::string scribepod_binary();

// A directory under the system temp dir, removed (recursively) on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to path()/relative, creating parent directories.
  std::filesystem::path write(const std::string& relative, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

// A loopback port that was free a moment ago (bound to port 0, then closed).
std::uint16_t pick_free_port();

class ServerProcess {
 public:
  // Starts `scribepod <args...>` with exactly `env` as its environment.
  // `working_dir` defaults to a fresh temporary directory (see cwd()).
  ServerProcess(std::vector<std::string> args, Env env,
                std::optional<std::filesystem::path> working_dir = std::nullopt);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts `scribepod serve --port <free port> <args...>` and waits for the
  // "listening" log line. Retries with another port if the chosen one was
  // taken meanwhile (exit 4). Throws std::runtime_error with the captured
  // output when the server does not come up within `timeout`.
  static std::unique_ptr<ServerProcess> serve(std::vector<std::string> args = {}, Env env = {},
                                              std::chrono::milliseconds timeout = 10s);

  // Waits until a JSON log line {"message":"listening",...} appears and
  // returns its port; nullopt (with the reason in `why`) on timeout or when
  // the child exits first.
  std::optional<std::uint16_t> wait_listening(std::chrono::milliseconds timeout,
                                              std::string* why = nullptr);
  // The port from the "listening" line (0 before it was seen).
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& cwd() const { return cwd_; }

  // Everything the child wrote so far.
  std::string stdout_text() const;
  std::string stderr_text() const;
  // Complete (newline-terminated) stdout lines so far.
  std::vector<std::string> log_lines() const;
  // Waits until some complete stdout line contains every one of `needles`
  // and returns it; nullopt on timeout.
  std::optional<std::string> wait_for_log(const std::vector<std::string>& needles,
                                          std::chrono::milliseconds timeout = 3s) const;
  // A description of the process and its output, for failure messages.
  std::string describe() const;

  void send_signal(int sig);
  // Waits for the child to exit; returns its exit status (128 + signal when
  // it was killed by one), or nullopt when it is still running at `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();

 private:
  std::unique_ptr<TempDir> own_dir_;
  std::filesystem::path cwd_;
  std::filesystem::path out_path_;
  std::filesystem::path err_path_;
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::uint16_t port_ = 0;
};

// ServerProcess::serve, but returns null (with the reason in `error`) instead
// of throwing: for SetUpTestSuite, which should not throw.
std::unique_ptr<ServerProcess> try_serve(std::vector<std::string> args, Env env,
                                         std::string& error);

// Runs `scribepod <args...>` to completion (a CLI command such as config).
struct CliResult {
  int exit_code = -1;  // -1 when it timed out (the child is then killed)
  std::string out;
  std::string err;
};
CliResult run_cli(std::vector<std::string> args, Env env = {},
                  std::optional<std::filesystem::path> working_dir = std::nullopt,
                  std::chrono::milliseconds timeout = 10s);

}  // namespace scribepod::testing
