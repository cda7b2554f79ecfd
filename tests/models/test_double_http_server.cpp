// TEST DOUBLE: see test_double_http_server.h.
#include "test_double_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace scribepod::models::testing {
namespace {

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool send_all(int fd, const std::string& s) { return send_all(fd, s.data(), s.size()); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Reads until the end of the request headers (GET has no body).
std::string read_head(int fd) {
  std::string head;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (head.find("\r\n\r\n") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<std::size_t>(n));
  }
  return head;
}

}  // namespace

TestDoubleHttpServer::TestDoubleHttpServer(std::string body) : body_(std::move(body)) {
  // libcurl honours http_proxy; a proxy set in a CI environment must never
  // intercept requests meant for this loopback server.
  ::setenv("no_proxy", "127.0.0.1,localhost", 1);
  ::setenv("NO_PROXY", "127.0.0.1,localhost", 1);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 8) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("bind/listen on 127.0.0.1:0 failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

TestDoubleHttpServer::~TestDoubleHttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

std::string TestDoubleHttpServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void TestDoubleHttpServer::script(std::vector<Fault> faults) {
  std::lock_guard lock(mu_);
  script_.assign(faults.begin(), faults.end());
}

std::vector<RecordedRequest> TestDoubleHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void TestDoubleHttpServer::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

void TestDoubleHttpServer::handle(int fd) {
  const std::string head = read_head(fd);
  if (head.empty()) return;
  RecordedRequest req;
  {
    const auto eol = head.find("\r\n");
    const std::string line = head.substr(0, eol);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 + 1);
    req.method = line.substr(0, sp1);
    req.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = eol + 2;
    while (pos < head.size()) {
      const auto end = head.find("\r\n", pos);
      if (end == std::string::npos || end == pos) break;
      const std::string h = head.substr(pos, end - pos);
      const auto colon = h.find(':');
      if (colon != std::string::npos && lower(h.substr(0, colon)) == "range") {
        req.range = h.substr(colon + 1);
        req.range.erase(0, req.range.find_first_not_of(' '));
      }
      pos = end + 2;
    }
  }
  Fault fault = Fault::kNone;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(req);
    if (!script_.empty()) {
      fault = script_.front();
      script_.pop_front();
    }
  }

  if (fault == Fault::kNotFound || fault == Fault::kServerError) {
    const std::string status =
        fault == Fault::kNotFound ? "404 Not Found" : "503 Service Unavailable";
    send_all(fd, "HTTP/1.1 " + status + "\r\nContent-Length: 5\r\nConnection: close\r\n\r\nnope\n");
    return;
  }
  const std::string body = fault == Fault::kWrongSize ? body_ + "X" : body_;
  std::size_t start = 0;
  bool partial = false;
  if (!req.range.empty() && fault != Fault::kIgnoreRange) {
    // Only the form the downloader sends: "bytes=N-".
    start = static_cast<std::size_t>(std::stoull(req.range.substr(req.range.find('=') + 1)));
    if (start >= body.size()) {
      send_all(fd, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" +
                       std::to_string(body.size()) +
                       "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    partial = true;
  }
  std::string payload = body.substr(start);
  if (fault == Fault::kCorrupt)
    payload[payload.size() / 2] = static_cast<char>(payload[payload.size() / 2] ^ 0x5a);
  std::string headers = partial ? "HTTP/1.1 206 Partial Content\r\n" : "HTTP/1.1 200 OK\r\n";
  headers += "Content-Type: application/octet-stream\r\nContent-Length: " +
             std::to_string(payload.size()) + "\r\n";
  if (partial) {
    headers += "Content-Range: bytes " + std::to_string(start) + "-" +
               std::to_string(body.size() - 1) + "/" + std::to_string(body.size()) + "\r\n";
  }
  headers += "Connection: close\r\n\r\n";
  if (!send_all(fd, headers)) return;

  switch (fault) {
    case Fault::kTruncateHalf:
      send_all(fd, payload.data(), payload.size() / 2);
      return;
    case Fault::kStall: {
      send_all(fd, payload.data(), std::min<std::size_t>(payload.size(), 64 * 1024));
      // Hold the connection open, sending nothing, until the client gives up.
      char buf[256];
      while (!stop_) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0 && ::recv(fd, buf, sizeof buf, 0) <= 0) break;
      }
      return;
    }
    default:
      send_all(fd, payload);
      return;
  }
}

}  // namespace scribepod::models::testing
