#include "http/error_response.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "telemetry/service_metrics.h"

namespace scribepod::http {

Response make_response(const Request& req, StatusCode status, std::string body,
                       std::string_view content_type) {
  Response res{status, req.version()};
  res.set(beast_http::field::content_type, content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

StatusCode status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return StatusCode::bad_request;
    case ErrorCode::kUnauthorized:
      return StatusCode::unauthorized;
    case ErrorCode::kForbidden:
      return StatusCode::forbidden;
    case ErrorCode::kNotFound:
      return StatusCode::not_found;
    case ErrorCode::kMethodNotAllowed:
      return StatusCode::method_not_allowed;
    case ErrorCode::kRequestTimeout:
      return StatusCode::request_timeout;
    case ErrorCode::kPayloadTooLarge:
      return StatusCode::payload_too_large;
    case ErrorCode::kUnsupportedMediaType:
      return StatusCode::unsupported_media_type;
    case ErrorCode::kHeadersTooLarge:
      return StatusCode::request_header_fields_too_large;
    case ErrorCode::kRateLimited:
      return StatusCode::too_many_requests;
    case ErrorCode::kUnavailable:
      return StatusCode::service_unavailable;
    case ErrorCode::kUpstreamTimeout:
      return StatusCode::gateway_timeout;
    case ErrorCode::kUpstreamFailed:
      return StatusCode::bad_gateway;
    case ErrorCode::kInvalidConfig:
    case ErrorCode::kIo:
    case ErrorCode::kInternal:
      return StatusCode::internal_server_error;
  }
  return StatusCode::internal_server_error;
}

Response error_response(const Error& error, unsigned version, bool keep_alive, bool production) {
  const StatusCode status = status_for(error.code);
  metrics::count_error(error.code);  // every error answered, by kind
  const bool internal = static_cast<unsigned>(status) >= 500 &&
                        (error.code == ErrorCode::kInternal || error.code == ErrorCode::kIo ||
                         error.code == ErrorCode::kInvalidConfig);
  nlohmann::json body = {
      {"error", error_code_name(error.code)},
      {"message", production && internal ? std::string{"internal server error"} : error.message},
      {"retryable", error_code_retryable(error.code)},
      {"timestamp", utc_timestamp_now()},
  };
  Response res{status, version};
  res.set(beast_http::field::content_type, "application/json");
  res.set(beast_http::field::cache_control, "no-store");
  if (error.retry_after) {
    res.set(beast_http::field::retry_after,
            std::to_string(std::max<long long>(1, error.retry_after->count())));
  }
  res.keep_alive(keep_alive);
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

}  // namespace scribepod::http
