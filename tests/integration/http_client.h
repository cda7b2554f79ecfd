// A small blocking HTTP/1.1 client for the integration tests: a raw TCP
// connection to 127.0.0.1 that sends arbitrary bytes and reads whole
// responses (parsed with Beast's response parser), with timeouts on
// everything.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scribepod::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  unsigned status = 0;
  unsigned version = 11;
  Headers headers;  // in the order received
  std::string body;
  bool keep_alive = true;  // per the response's version and Connection header

  bool has(std::string_view name) const;
  // The first header called `name` (case-insensitive), or "" when absent.
  std::string header(std::string_view name) const;
  // Body as JSON (discarded value when it is not JSON).
  nlohmann::json json() const;
  // Status line and headers, for failure messages.
  std::string head_text() const;
};

enum class ReadOutcome {
  kResponse,  // a whole response arrived
  kClosed,    // the peer closed (or reset) before a whole response
  kTimeout,   // nothing (complete) within the timeout
  kError,     // the bytes were not a valid HTTP response
};

struct ReadResult {
  ReadOutcome outcome = ReadOutcome::kError;
  HttpResponse response;  // valid when outcome == kResponse
  std::string raw;        // bytes received while reading
  std::string error;
};

class HttpConnection {
 public:
  // Connects to 127.0.0.1:port; throws std::runtime_error on failure.
  explicit HttpConnection(std::uint16_t port,
                          std::chrono::milliseconds timeout = std::chrono::seconds(2));
  ~HttpConnection();
  HttpConnection(HttpConnection&& other) noexcept;
  HttpConnection& operator=(HttpConnection&&) = delete;
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Tries to connect; returns the errno on failure (e.g. ECONNREFUSED).
  static int try_connect(std::uint16_t port,
                         std::chrono::milliseconds timeout = std::chrono::seconds(2));

  // Sends all of `bytes`; false when the peer is gone (EPIPE/ECONNRESET).
  bool send(std::string_view bytes);
  // Reads one response. `head_request`: the response has no body (HEAD).
  // Interim (1xx) responses are skipped unless `return_interim`.
  ReadResult try_read(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                      bool head_request = false, bool return_interim = false);
  // Like try_read but throws std::runtime_error unless a response arrived.
  HttpResponse read(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                    bool head_request = false);
  // Sends `raw` and reads the response.
  HttpResponse roundtrip(std::string_view raw, bool head_request = false);

  // Waits until the peer closes the connection (EOF or reset), discarding
  // nothing: whatever arrives first is kept in `received`. True when closed
  // within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout, std::string* received = nullptr);

  // Shuts down our sending side (the server sees EOF).
  void shutdown_send();

 private:
  // Receives more bytes into buffer_; returns >0 bytes, 0 on EOF, -1 on
  // timeout, -2 on error (errno kept in last_errno_).
  long receive(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;  // received but not yet consumed
  int last_errno_ = 0;
};

// A request in wire format. Adds Host; adds Content-Length when `body` is
// non-empty or the method is POST/PUT/PATCH, unless `headers` set it or
// Transfer-Encoding.
std::string make_request(std::string_view method, std::string_view target,
                         const Headers& headers = {}, std::string_view body = {},
                         std::string_view version = "HTTP/1.1");

// One request on a fresh connection (Connection: close is not added; the
// connection is simply dropped afterwards).
HttpResponse http_get(std::uint16_t port, std::string_view target, const Headers& headers = {});
HttpResponse http_head(std::uint16_t port, std::string_view target, const Headers& headers = {});
HttpResponse http_post(std::uint16_t port, std::string_view target, std::string_view body,
                       const Headers& headers = {});
HttpResponse http_options(std::uint16_t port, std::string_view target, const Headers& headers = {});
HttpResponse http_request(std::uint16_t port, std::string_view method, std::string_view target,
                          const Headers& headers = {}, std::string_view body = {});

// Succeeds when `res` has `status` and the JSON error body the API promises:
// {error: `code`, message: non-empty string, retryable: bool, timestamp:
// ISO-8601 UTC}, with Content-Type application/json.
::testing::AssertionResult IsJsonError(const HttpResponse& res, unsigned status,
                                       std::string_view code);

// True when `text` looks like 2024-01-02T03:04:05.678Z (fraction optional).
bool is_iso8601_utc(std::string_view text);

// A RIFF/WAVE file (PCM16, mono, 16 kHz) around raw samples, for upload
// bodies in the integration, acceptance and fault suites.
std::string wav_from_pcm16(const std::string& pcm);

}  // namespace scribepod::testing
