// HttpClient: one blocking HTTP exchange at a time per call, over libcurl.
//
// send() performs one request and returns the response whatever its status
// (a 500 is a response, not an error); it fails only when no complete
// response arrived: the host could not be reached, the exchange ran past its
// timeouts, the connection broke, or the body grew past max_response_bytes.
// Every call is bounded by ClientOptions' connect and total timeouts.
//
// The client is thread-safe: each call borrows a curl easy handle from a small
// pool (so keep-alive connections and DNS answers are reused) and returns it.
// It follows no redirects (an Authorization header must never travel to
// another host) and logs nothing itself, so secrets in headers stay put.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace scribepod::remote {

// One part of a multipart/form-data body. A part with a filename is a file
// upload; without one it is a plain form field.
struct MultipartField {
  std::string name{};
  std::string filename{};      // "" for a plain field
  std::string content_type{};  // "" lets curl choose (text/plain for fields)
  std::string data{};
};

struct HttpRequest {
  std::string method = "GET";
  std::string url{};  // absolute; Backend::call also accepts a "/path" under its base URL
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};                       // sent as is (set Content-Type in headers)
  std::vector<MultipartField> multipart{};  // when non-empty, replaces body
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers{};  // names lowercased; repeats joined by ", "
  std::string body{};
  double elapsed_ms = 0;

  // The value of a header (name in any case), or "" when absent.
  std::string header(std::string_view name) const;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{60000};  // whole exchange, upload and download
  std::size_t max_response_bytes = 16 * 1024 * 1024;

  static ClientOptions default_options() { return {}; }
};

// Why an exchange produced no response. The retry policy reads this; callers
// normally only need the Error.
enum class TransportFailure {
  kNone,
  kConnect,   // DNS or TCP connect failed (kUpstreamFailed)
  kTimeout,   // a timeout expired (kUpstreamTimeout)
  kDropped,   // the connection broke mid-exchange (kUpstreamFailed)
  kTooLarge,  // response body over max_response_bytes (kUpstreamFailed)
  kOther,     // malformed URL, TLS verification, ... (kUpstreamFailed)
};

std::string_view transport_failure_name(TransportFailure failure);

// The outcome of one exchange: `result` holds the response or the Error, and
// `failure` says which kind of transport failure it was (kNone on success).
struct Exchange {
  Result<HttpResponse> result;
  TransportFailure failure = TransportFailure::kNone;
};

class HttpClient {
 public:
  explicit HttpClient(ClientOptions options = ClientOptions::default_options());
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Exchange exchange(const HttpRequest& request) const;
  Result<HttpResponse> send(const HttpRequest& request) const { return exchange(request).result; }

  const ClientOptions& options() const { return options_; }

 private:
  class HandlePool;
  ClientOptions options_;
  std::unique_ptr<HandlePool> pool_;
};

// The URL without user info and query string, safe to put in messages and
// logs (some APIs take keys in either).
std::string redact_url(std::string_view url);

}  // namespace scribepod::remote
