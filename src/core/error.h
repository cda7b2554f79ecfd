// One error type for the whole program. Every module reports failure as an
// Error with a code from the closed set below; the HTTP layer maps each code
// to a status exactly once (http/error_response), and the CLI maps each code
// to an exit status. Messages are written for the person who sent the request:
// they say what was wrong, never how the server is built.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace scribepod {

enum class ErrorCode {
  kBadRequest,            // malformed input: a missing field, a bad value
  kUnauthorized,          // no or wrong credentials
  kForbidden,             // credentials fine, action not allowed (e.g. CORS)
  kNotFound,              // no such route or resource
  kMethodNotAllowed,      // route exists, method does not
  kRequestTimeout,        // the client was too slow to send its request
  kPayloadTooLarge,       // body, file or duration over a limit
  kUnsupportedMediaType,  // the bytes are not a format we accept
  kHeadersTooLarge,       // request headers over the limit
  kRateLimited,           // a token bucket is empty; carries retry_after
  kUnavailable,           // not ready, overloaded or a circuit is open
  kUpstreamTimeout,       // a backend did not answer in time
  kUpstreamFailed,        // a backend answered with garbage or an error
  kInvalidConfig,         // configuration rejected at start-up
  kIo,                    // local file or socket failure
  kInternal,              // a bug: never the caller's fault
};

// Stable machine-readable name of a code ("bad_request", ...), used as the
// `error` field of JSON error bodies and in logs.
std::string_view error_code_name(ErrorCode code);

// True for the failures a client may retry unchanged (rate limits, overload,
// upstream trouble).
bool error_code_retryable(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // When set, the client should wait this long before retrying; becomes the
  // Retry-After header.
  std::optional<std::chrono::seconds> retry_after;

  static Error bad_request(std::string message) {
    return {ErrorCode::kBadRequest, std::move(message), {}};
  }
  static Error not_found(std::string message) {
    return {ErrorCode::kNotFound, std::move(message), {}};
  }
  static Error too_large(std::string message) {
    return {ErrorCode::kPayloadTooLarge, std::move(message), {}};
  }
  static Error unsupported(std::string message) {
    return {ErrorCode::kUnsupportedMediaType, std::move(message), {}};
  }
  static Error invalid_config(std::string message) {
    return {ErrorCode::kInvalidConfig, std::move(message), {}};
  }
  static Error io(std::string message) { return {ErrorCode::kIo, std::move(message), {}}; }
  static Error internal(std::string message) {
    return {ErrorCode::kInternal, std::move(message), {}};
  }
};

}  // namespace scribepod
