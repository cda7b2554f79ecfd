#include "acceptance_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace scribepod::testing {

std::string encode_speech(const TempDir& dir, const std::string& raw, const std::string& name,
                          const std::string& args) {
  const auto out = dir.path() / name;
  const std::string cmd = "ffmpeg -nostdin -loglevel error -y -f s16le -ar 16000 -ac 1 -i '" +
                          std::string(kSpeechDir) + "/" + raw + "' " + args + " '" + out.string() +
                          "'";
  if (std::system(cmd.c_str()) != 0) return {};
  std::ifstream in(out, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string multipart(const std::string& field, const std::string& data, const std::string& type) {
  std::string body = std::string("--") + kBoundary + "\r\n";
  body += "Content-Disposition: form-data; name=\"" + field + "\"; filename=\"blob\"\r\n";
  body += "Content-Type: " + type + "\r\n\r\n" + data + "\r\n--" + kBoundary + "--\r\n";
  return body;
}

Headers form_headers(const std::string& session) {
  Headers h = {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary}};
  if (!session.empty()) h.emplace_back("X-Session-Id", session);
  return h;
}

std::vector<nlohmann::json> log_records(const ServerProcess& server, const std::string& message) {
  std::vector<nlohmann::json> out;
  for (const std::string& line : server.log_lines()) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("message", "") == message) out.push_back(std::move(j));
  }
  return out;
}

FakeBackend::FakeBackend(Mode mode, unsigned status, std::string body, std::string content_type)
    : mode_(mode) {
  response_ = "HTTP/1.1 " + std::to_string(status) + " Canned\r\nContent-Type: " + content_type +
              "\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\nConnection: close\r\n\r\n" + body;
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("cannot listen on loopback");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeBackend::~FakeBackend() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
  const std::lock_guard lock(held_mu_);
  for (int fd : held_) ::close(fd);
}

void FakeBackend::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    ++requests_;
    if (mode_ == Mode::kSilent) {
      const std::lock_guard lock(held_mu_);
      held_.push_back(fd);  // never answered, closed by the destructor
      continue;
    }
    handle(fd);
    ::close(fd);
  }
}

// Reads the request head and its Content-Length body (2 s at most), then
// sends the canned response.
void FakeBackend::handle(int fd) {
  std::string in;
  std::size_t need = std::string::npos;
  char buf[16384];
  for (int waited = 0; waited < 2000 && !stop_;) {
    if (need == std::string::npos) {
      const auto head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::size_t length = 0;
        std::string head = in.substr(0, head_end);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto at = head.find("content-length:");
        if (at != std::string::npos) length = std::stoul(head.substr(at + 15));
        need = head_end + 4 + length;
      }
    }
    if (need != std::string::npos && in.size() >= need) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) {
      waited += 50;
      continue;
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    in.append(buf, static_cast<std::size_t>(n));
  }
  std::size_t sent = 0;
  while (sent < response_.size()) {
    const ssize_t n = ::send(fd, response_.data() + sent, response_.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace scribepod::testing
