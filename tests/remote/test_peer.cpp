// TEST DOUBLE: see test_peer.h.
#include "test_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace scribepod::testing {
namespace {

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Reads from a socket into a growing buffer; every read waits at most the
// socket's receive timeout.
class Reader {
 public:
  explicit Reader(int fd) : fd_(fd) {}

  bool fill_until(const std::string& marker, size_t from, size_t& pos) {
    while ((pos = buf_.find(marker, from)) == std::string::npos) {
      if (buf_.size() > (1U << 20) || !more()) return false;
    }
    return true;
  }
  bool fill_to(size_t n) {
    while (buf_.size() < n) {
      if (!more()) return false;
    }
    return true;
  }
  std::string& buf() { return buf_; }

 private:
  bool more() {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  int fd_;
  std::string buf_;
};

bool read_request(int fd, ReceivedRequest& out) {
  Reader r(fd);
  size_t end = 0;
  if (!r.fill_until("\r\n\r\n", 0, end)) return false;
  const std::string head = r.buf().substr(0, end);
  size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  const size_t sp1 = request_line.find(' ');
  const size_t sp2 = request_line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return false;
  out.method = request_line.substr(0, sp1);
  out.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  while (line_end != std::string::npos && line_end < head.size()) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line =
        head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    out.headers[lowercase(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }

  size_t pos = end + 4;
  if (lowercase(out.header("transfer-encoding")).find("chunked") != std::string::npos) {
    for (;;) {
      size_t eol = 0;
      if (!r.fill_until("\r\n", pos, eol)) return false;
      const size_t size = std::stoul(r.buf().substr(pos, eol - pos), nullptr, 16);
      pos = eol + 2;
      if (size == 0) break;
      if (!r.fill_to(pos + size + 2)) return false;
      out.body.append(r.buf(), pos, size);
      pos += size + 2;
    }
  } else if (!out.header("content-length").empty()) {
    const size_t length = std::stoul(out.header("content-length"));
    if (!r.fill_to(pos + length)) return false;
    out.body = r.buf().substr(pos, length);
  }
  return true;
}

std::string reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

void write_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the client gave up (a timeout test): nothing to do
    sent += static_cast<size_t>(n);
  }
}

}  // namespace

TestPeer::TestPeer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("test peer: socket failed");
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("test peer: bind/listen on 127.0.0.1 failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestPeer::~TestPeer() {
  stopping_ = true;
  stop_cv_.notify_all();
  acceptor_.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(mu_);
    connections.swap(connections_);
  }
  for (auto& t : connections) t.join();
  ::close(listen_fd_);
}

std::string TestPeer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void TestPeer::push(ScriptedResponse response) {
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(response));
}

void TestPeer::set_default(ScriptedResponse response) {
  std::lock_guard lock(mu_);
  default_ = std::move(response);
}

void TestPeer::set_handler(Handler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

std::vector<ReceivedRequest> TestPeer::requests() const {
  std::lock_guard lock(mu_);
  return received_;
}

std::size_t TestPeer::request_count() const {
  std::lock_guard lock(mu_);
  return received_.size();
}

void TestPeer::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

ScriptedResponse TestPeer::next_response(const ReceivedRequest& request) {
  Handler handler;
  {
    std::lock_guard lock(mu_);
    received_.push_back(request);
    if (!handler_ && !queue_.empty()) {
      ScriptedResponse r = std::move(queue_.front());
      queue_.pop_front();
      return r;
    }
    if (!handler_) return default_;
    handler = handler_;
  }
  return handler(request);
}

void TestPeer::serve(int fd) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ReceivedRequest request;
  if (!read_request(fd, request)) {
    ::close(fd);
    return;
  }
  request.at = std::chrono::steady_clock::now();
  const ScriptedResponse response = next_response(request);
  if (response.delay.count() > 0) {
    std::unique_lock lock(mu_);
    stop_cv_.wait_for(lock, response.delay, [this] { return stopping_.load(); });
  }
  if (!response.drop) {
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                      reason_phrase(response.status) + "\r\n";
    for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
    if (!response.omit_content_length) {
      out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    }
    out += "Connection: close\r\n\r\n";
    out += response.body;
    write_all(fd, out);
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace scribepod::testing
