#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <regex>
#include <stdexcept>

namespace scribepod::testing {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string errno_text(int err) { return std::string(std::strerror(err)); }

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

int open_connection(std::uint16_t port, std::chrono::milliseconds timeout, int& err) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  // SO_SNDTIMEO also bounds a blocking connect().
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    err = errno;
    ::close(fd);
    return -1;
  }
  err = 0;
  return fd;
}

}  // namespace

bool HttpResponse::has(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequal(k, name)) return true;
  }
  return false;
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequal(k, name)) return v;
  }
  return {};
}

nlohmann::json HttpResponse::json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string HttpResponse::head_text() const {
  std::string out = "HTTP/" + std::to_string(version / 10) + "." + std::to_string(version % 10) +
                    " " + std::to_string(status) + "\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\n";
  return out;
}

HttpConnection::HttpConnection(std::uint16_t port, std::chrono::milliseconds timeout) {
  int err = 0;
  fd_ = open_connection(port, timeout, err);
  if (fd_ < 0) {
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " +
                             errno_text(err));
  }
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

HttpConnection::HttpConnection(HttpConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      last_errno_(other.last_errno_) {}

int HttpConnection::try_connect(std::uint16_t port, std::chrono::milliseconds timeout) {
  int err = 0;
  const int fd = open_connection(port, timeout, err);
  if (fd >= 0) ::close(fd);
  return err;
}

bool HttpConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      last_errno_ = errno;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void HttpConnection::shutdown_send() { ::shutdown(fd_, SHUT_WR); }

long HttpConnection::receive(Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      last_errno_ = errno;
      return -2;
    }
    if (r == 0) return -1;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      last_errno_ = errno;
      return -2;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return static_cast<long>(n);
  }
}

ReadResult HttpConnection::try_read(std::chrono::milliseconds timeout, bool head_request,
                                    bool return_interim) {
  const auto deadline = Clock::now() + timeout;
  ReadResult result;
  auto make_parser = [head_request] {
    auto p = std::make_unique<bhttp::response_parser<bhttp::string_body>>();
    p->eager(true);
    p->header_limit(1024 * 1024);
    p->body_limit(256 * 1024 * 1024);
    if (head_request) p->skip(true);
    return p;
  };
  auto parser = make_parser();
  const auto finish = [&] {
    const auto& msg = parser->get();
    HttpResponse& res = result.response;
    res.status = msg.result_int();
    res.version = msg.version();
    for (const auto& field : msg) {
      res.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    res.body = msg.body();
    res.keep_alive = msg.keep_alive();
    result.outcome = ReadOutcome::kResponse;
  };

  for (;;) {
    // Feed what we have.
    while (!buffer_.empty()) {
      beast::error_code ec;
      const std::size_t used =
          parser->put(boost::asio::const_buffer(buffer_.data(), buffer_.size()), ec);
      result.raw.append(buffer_, 0, used);
      buffer_.erase(0, used);
      if (ec == bhttp::error::need_more) break;
      if (ec) {
        result.outcome = ReadOutcome::kError;
        result.error = "unparseable response: " + ec.message();
        return result;
      }
      if (parser->is_done()) {
        if (!return_interim && parser->get().result_int() / 100 == 1) {  // 100 Continue and friends
          parser = make_parser();
          continue;
        }
        finish();
        return result;
      }
      if (used == 0) break;
    }
    const long got = receive(deadline);
    if (got > 0) continue;
    if (got == -1) {
      result.outcome = ReadOutcome::kTimeout;
      result.error = "no complete response within " + std::to_string(timeout.count()) + " ms";
      result.raw += buffer_;
      return result;
    }
    // EOF or reset: a response delimited by the end of the connection may be
    // complete now.
    if (got == 0 && parser->got_some()) {
      beast::error_code ec;
      parser->put_eof(ec);
      if (!ec && parser->is_done()) {
        finish();
        return result;
      }
    }
    result.outcome = ReadOutcome::kClosed;
    result.error = got == 0 ? "connection closed by the server"
                            : "connection error: " + errno_text(last_errno_);
    result.raw += buffer_;
    return result;
  }
}

HttpResponse HttpConnection::read(std::chrono::milliseconds timeout, bool head_request) {
  ReadResult r = try_read(timeout, head_request);
  if (r.outcome != ReadOutcome::kResponse) {
    throw std::runtime_error("no HTTP response: " + r.error + "; received: \"" + r.raw + "\"");
  }
  return std::move(r.response);
}

HttpResponse HttpConnection::roundtrip(std::string_view raw, bool head_request) {
  if (!send(raw)) {
    throw std::runtime_error("cannot send the request: " + errno_text(last_errno_));
  }
  return read(std::chrono::seconds(5), head_request);
}

bool HttpConnection::wait_closed(std::chrono::milliseconds timeout, std::string* received) {
  const auto deadline = Clock::now() + timeout;
  if (received != nullptr) *received = buffer_;
  for (;;) {
    const std::size_t before = buffer_.size();
    const long got = receive(deadline);
    if (received != nullptr && got > 0) received->append(buffer_, before, std::string::npos);
    if (got == 0 || got == -2) return true;
    if (got == -1) return false;
  }
}

std::string make_request(std::string_view method, std::string_view target, const Headers& headers,
                         std::string_view body, std::string_view version) {
  std::string out;
  out.append(method).append(" ").append(target).append(" ").append(version).append("\r\n");
  bool has_host = false;
  bool has_length = false;
  for (const auto& [k, v] : headers) {
    has_host = has_host || iequal(k, "Host");
    has_length = has_length || iequal(k, "Content-Length") || iequal(k, "Transfer-Encoding");
  }
  if (!has_host) out += "Host: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) out.append(k).append(": ").append(v).append("\r\n");
  const bool body_method = method == "POST" || method == "PUT" || method == "PATCH";
  if (!has_length && (!body.empty() || body_method)) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out.append(body);
  return out;
}

HttpResponse http_request(std::uint16_t port, std::string_view method, std::string_view target,
                          const Headers& headers, std::string_view body) {
  HttpConnection conn(port);
  return conn.roundtrip(make_request(method, target, headers, body), method == "HEAD");
}

HttpResponse http_get(std::uint16_t port, std::string_view target, const Headers& headers) {
  return http_request(port, "GET", target, headers);
}

HttpResponse http_head(std::uint16_t port, std::string_view target, const Headers& headers) {
  return http_request(port, "HEAD", target, headers);
}

HttpResponse http_post(std::uint16_t port, std::string_view target, std::string_view body,
                       const Headers& headers) {
  return http_request(port, "POST", target, headers, body);
}

HttpResponse http_options(std::uint16_t port, std::string_view target, const Headers& headers) {
  return http_request(port, "OPTIONS", target, headers);
}

bool is_iso8601_utc(std::string_view text) {
  static const std::regex kIso(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z)");
  return std::regex_match(text.begin(), text.end(), kIso);
}

::testing::AssertionResult IsJsonError(const HttpResponse& res, unsigned status,
                                       std::string_view code) {
  auto fail = [&res](const std::string& what) {
    return ::testing::AssertionFailure() << what << "\n" << res.head_text() << "\n" << res.body;
  };
  if (res.status != status) {
    return fail("status " + std::to_string(res.status) + ", expected " + std::to_string(status));
  }
  if (res.header("Content-Type").rfind("application/json", 0) != 0) {
    return fail("Content-Type is not application/json");
  }
  const nlohmann::json j = res.json();
  if (!j.is_object()) return fail("body is not a JSON object");
  if (!j.contains("error") || j["error"] != code) {
    return fail("\"error\" is not \"" + std::string(code) + "\"");
  }
  if (!j.contains("message") || !j["message"].is_string() ||
      j["message"].get<std::string>().empty()) {
    return fail("\"message\" is missing or empty");
  }
  if (!j.contains("retryable") || !j["retryable"].is_boolean()) {
    return fail("\"retryable\" is missing or not a boolean");
  }
  if (!j.contains("timestamp") || !j["timestamp"].is_string() ||
      !is_iso8601_utc(j["timestamp"].get<std::string>())) {
    return fail("\"timestamp\" is missing or not ISO-8601 UTC");
  }
  return ::testing::AssertionSuccess();
}

std::string wav_from_pcm16(const std::string& pcm) {
  const auto put_le = [](std::string& out, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
  };
  const auto data_size = static_cast<std::uint32_t>(pcm.size());
  std::string out = "RIFF";
  put_le(out, 36 + data_size, 4);
  out += "WAVEfmt ";
  put_le(out, 16, 4);
  put_le(out, 1, 2);          // PCM
  put_le(out, 1, 2);          // mono
  put_le(out, 16000, 4);      // sample rate
  put_le(out, 16000 * 2, 4);  // byte rate
  put_le(out, 2, 2);          // block align
  put_le(out, 16, 2);         // bits per sample
  out += "data";
  put_le(out, data_size, 4);
  return out + pcm;
}

}  // namespace scribepod::testing
