#include "server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace scribepod::testing {

namespace fs = std::filesystem;

std::string scribepod_binary() {
  if (const char* env = std::getenv("SCRIBEPOD_BINARY"); env != nullptr && *env != '\0') {
    return env;
  }
#ifdef SCRIBEPOD_BINARY
  return SCRIBEPOD_BINARY;
#else
  return "scribepod";
#endif
}

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return std::move(buf).str();
}

std::string errno_text(int err) { return std::string(std::strerror(err)); }

}  // namespace

TempDir::TempDir() {
  std::random_device rd;
  const fs::path base = fs::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    const fs::path candidate =
        base / ("scribepod-it-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
    std::error_code ec;
    if (fs::create_directory(candidate, ec)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory under " + base.string());
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path TempDir::write(const std::string& relative, const std::string& content) const {
  const fs::path p = path_ / relative;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p.string());
  return p;
}

std::uint16_t pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + errno_text(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot find a free port: " + errno_text(err));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

ServerProcess::ServerProcess(std::vector<std::string> args, Env env,
                             std::optional<fs::path> working_dir)
    : own_dir_(std::make_unique<TempDir>()), args_(std::move(args)) {
  out_path_ = own_dir_->path() / "stdout.log";
  err_path_ = own_dir_->path() / "stderr.log";
  if (working_dir) {
    cwd_ = *working_dir;
  } else {
    cwd_ = own_dir_->path() / "cwd";
    fs::create_directories(cwd_);
  }

  const std::string binary = scribepod_binary();
  std::vector<std::string> argv_store;
  argv_store.push_back(binary);
  argv_store.insert(argv_store.end(), args_.begin(), args_.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (const auto& [k, v] : env) env_store.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addchdir_np(&actions, cwd_.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGHUP);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);

  const int rc = posix_spawn(&pid_, binary.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start " + binary + ": " + errno_text(rc));
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !exit_status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

std::unique_ptr<ServerProcess> ServerProcess::serve(std::vector<std::string> args, Env env,
                                                    std::chrono::milliseconds timeout) {
  std::string last_failure;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<std::string> full{"serve", "--port", std::to_string(pick_free_port()), "--set",
                                  "server.threads=2"};
    full.insert(full.end(), args.begin(), args.end());
    auto proc = std::make_unique<ServerProcess>(std::move(full), env);
    std::string why;
    if (proc->wait_listening(timeout, &why)) return proc;
    last_failure = why + "\n" + proc->describe();
    // Exit status 4: the port was taken between picking and binding; retry.
    if (proc->wait_exit(0ms) != 4) break;
  }
  throw std::runtime_error("scribepod serve did not start: " + last_failure);
}

std::optional<std::uint16_t> ServerProcess::wait_listening(std::chrono::milliseconds timeout,
                                                           std::string* why) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (const std::string& line : log_lines()) {
      const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.value("message", "") == "listening" && j.contains("port") &&
          j["port"].is_number_unsigned()) {
        port_ = j["port"].get<std::uint16_t>();
        return port_;
      }
    }
    if (!running()) {
      if (why != nullptr) *why = "the server exited before it was listening";
      return std::nullopt;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      if (why != nullptr) {
        *why = "no \"listening\" log line within " + std::to_string(timeout.count()) + " ms";
      }
      return std::nullopt;
    }
    std::this_thread::sleep_for(10ms);
  }
}

std::string ServerProcess::stdout_text() const { return read_file(out_path_); }
std::string ServerProcess::stderr_text() const { return read_file(err_path_); }

std::vector<std::string> ServerProcess::log_lines() const {
  const std::string text = stdout_text();
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;  // an incomplete last line is not a line yet
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::optional<std::string> ServerProcess::wait_for_log(const std::vector<std::string>& needles,
                                                       std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (const std::string& line : log_lines()) {
      bool all = true;
      for (const std::string& n : needles) all = all && line.find(n) != std::string::npos;
      if (all) return line;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

std::string ServerProcess::describe() const {
  std::string out = "command: " + scribepod_binary();
  for (const auto& a : args_) out += " " + a;
  out += "\n--- stdout ---\n" + stdout_text() + "\n--- stderr ---\n" + stderr_text();
  return out;
}

void ServerProcess::send_signal(int sig) {
  if (pid_ > 0 && !exit_status_) ::kill(pid_, sig);
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_status_) return exit_status_;
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      if (WIFEXITED(status)) {
        exit_status_ = WEXITSTATUS(status);
      } else if (WIFSIGNALED(status)) {
        exit_status_ = 128 + WTERMSIG(status);
      } else {
        continue;
      }
      return exit_status_;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

bool ServerProcess::running() { return !wait_exit(0ms).has_value(); }

std::unique_ptr<ServerProcess> try_serve(std::vector<std::string> args, Env env,
                                         std::string& error) {
  try {
    return ServerProcess::serve(std::move(args), std::move(env));
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
}

CliResult run_cli(std::vector<std::string> args, Env env, std::optional<fs::path> working_dir,
                  std::chrono::milliseconds timeout) {
  ServerProcess proc(std::move(args), std::move(env), std::move(working_dir));
  CliResult result;
  const auto status = proc.wait_exit(timeout);
  result.exit_code = status ? *status : -1;
  result.out = proc.stdout_text();
  result.err = proc.stderr_text();
  return result;
}

}  // namespace scribepod::testing
