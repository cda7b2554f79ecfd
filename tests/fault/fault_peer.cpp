// TEST DOUBLE: see fault_peer.h.
#include "fault_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace scribepod::testing {
namespace {

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Reads one request (head, then a Content-Length body) and returns its
// target; "" when the client went away first.
std::string read_request(int fd, const std::function<void()>& on_head) {
  std::string buf;
  char chunk[16384];
  std::size_t head_end = std::string::npos;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0 || buf.size() > (1U << 20)) return {};
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  const std::string head = lowercase(buf.substr(0, head_end));
  const std::size_t sp1 = head.find(' ');
  const std::size_t sp2 = head.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return {};
  const std::string target = buf.substr(sp1 + 1, sp2 - sp1 - 1);
  on_head();
  std::size_t length = 0;
  if (const std::size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
    length = std::stoul(head.substr(at + 17));
  }
  const std::size_t want = head_end + 4 + length;
  while (buf.size() < want) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return {};
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  return target.empty() ? "/" : target;
}

void send_all(int fd, const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;  // the client gave up (timed out): nothing to do
    off += static_cast<std::size_t>(n);
  }
}

std::string response(int status, const std::string& reason, const std::string& body,
                     const std::string& retry_after = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  out += "Content-Type: application/json\r\nConnection: close\r\n";
  if (!retry_after.empty()) out += "Retry-After: " + retry_after + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

std::string healthy_body(const std::string& target) {
  if (target.find("/audio/transcriptions") != std::string::npos) {
    const std::string text = std::string(" ") + FaultPeer::kTranscript;
    return nlohmann::json{{"task", "transcribe"},
                          {"language", "english"},
                          {"duration", 2.5},
                          {"text", text},
                          {"segments", {{{"id", 0}, {"start", 0.0}, {"end", 2.5}, {"text", text}}}}}
        .dump();
  }
  const nlohmann::json thoughts = {{"intent", "to move forward"},
                                   {"person_is", "giving directions"},
                                   {"extra_state", "walking"},
                                   {"thoughts", "they want to go ten meters ahead"},
                                   {"response", "Going forward ten meters."}};
  return nlohmann::json{
      {"id", "chatcmpl-fault-peer"},
      {"object", "chat.completion"},
      {"model", "fault-peer"},
      {"choices",
       {{{"index", 0},
         {"finish_reason", "stop"},
         {"message", {{"role", "assistant"}, {"content", thoughts.dump()}}}}}},
      {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 20}, {"total_tokens", 30}}}}
      .dump();
}

}  // namespace

FaultPeer::FaultPeer(bool start_down) {
  fd_ = bind_port();
  if (!start_down) listen_now();
}

FaultPeer::~FaultPeer() {
  stopping_ = true;
  stop_cv_.notify_all();
  stop_listening();
  if (fd_ >= 0) ::close(fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(connections_);
  }
  for (auto& t : threads) t.join();
}

std::string FaultPeer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FaultPeer::set(Behaviour b) {
  std::lock_guard lock(mu_);
  behaviour_ = std::move(b);
}

void FaultPeer::healthy() {
  set({});
  if (!accepting_) listen_now();
}

void FaultPeer::down() { stop_listening(); }

void FaultPeer::slow(std::chrono::milliseconds delay) {
  set({.mode = Mode::kSlow, .delay = delay, .status = 200, .retry_after = {}});
  if (!accepting_) listen_now();
}

void FaultPeer::fail(int status, std::string retry_after) {
  set({.mode = Mode::kFail, .delay = {}, .status = status, .retry_after = std::move(retry_after)});
  if (!accepting_) listen_now();
}

int FaultPeer::bind_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("FaultPeer: socket() failed");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port_));
  // NOLINTNEXTLINE: the sockets API takes a sockaddr*.
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("FaultPeer: cannot bind port " + std::to_string(port_));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  return fd;
}

void FaultPeer::listen_now() {
  if (fd_ < 0) fd_ = bind_port();
  if (::listen(fd_, 64) != 0) {
    throw std::runtime_error("FaultPeer: cannot listen on port " + std::to_string(port_));
  }
  accepting_ = true;
  acceptor_ = std::thread([this, fd = fd_] { accept_loop(fd); });
}

void FaultPeer::stop_listening() {
  if (!accepting_) return;
  accepting_ = false;
  acceptor_.join();
  // Closing the listening socket resets connections still in its backlog.
  // A socket bound to the port but not listening keeps it ours (no other
  // server can take it) and makes every connection attempt refused.
  ::close(fd_);
  fd_ = -1;
  if (!stopping_) fd_ = bind_port();
}

void FaultPeer::accept_loop(int listen_fd) {
  while (accepting_) {
    pollfd p{listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept(listen_fd, nullptr, nullptr);
    if (fd < 0) continue;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::lock_guard lock(mu_);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

void FaultPeer::serve(int fd) {
  const std::string target = read_request(fd, [this] { ++hits_; });
  if (!target.empty()) {
    Behaviour b;
    {
      std::unique_lock lock(mu_);
      b = behaviour_;
      if (b.mode == Mode::kSlow) {
        stop_cv_.wait_for(lock, b.delay, [this] { return stopping_.load(); });
      }
    }
    if (b.mode == Mode::kFail) {
      const std::string body = nlohmann::json{
          {"error",
           {{"message", "fault injected: status " + std::to_string(b.status)},
            {"type",
             "server_error"}}}}.dump();
      send_all(fd, response(b.status, "Fault", body, b.retry_after));
    } else if (!stopping_) {
      send_all(fd, response(200, "OK", healthy_body(target)));
    }
  }
  ::close(fd);
}

}  // namespace scribepod::testing
