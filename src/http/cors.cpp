#include "http/cors.h"

namespace scribepod::http {
namespace {
constexpr std::string_view kAllowMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
constexpr std::string_view kAllowHeaders =
    "Content-Type, Authorization, X-API-Key, X-Session-Id, X-Request-Id, Idempotency-Key";
constexpr std::string_view kExposeHeaders = "X-Session-Id, X-Request-Id, Retry-After";

std::string_view origin_of(const Request& req) {
  const auto it = req.find(beast_http::field::origin);
  return it == req.end() ? std::string_view{} : std::string_view{it->value()};
}
}  // namespace

CorsMiddleware::CorsMiddleware(const std::vector<std::string>& allowed_origins,
                               std::chrono::seconds max_age)
    : origins_(allowed_origins.begin(), allowed_origins.end()),
      max_age_(std::to_string(max_age.count())) {}

bool CorsMiddleware::allowed(std::string_view origin) const {
  return !origin.empty() && origins_.count(std::string(origin)) != 0;
}

std::optional<Result<Response>> CorsMiddleware::before(Request& req, Context&) {
  const std::string_view origin = origin_of(req);
  const bool preflight = req.method() == Verb::options && !origin.empty() &&
                         req.find(beast_http::field::access_control_request_method) != req.end();
  if (!preflight) return std::nullopt;
  if (!allowed(origin)) {
    return Result<Response>{Error{ErrorCode::kForbidden, "origin not allowed", {}}};
  }
  Response res{StatusCode::no_content, req.version()};
  res.set(beast_http::field::access_control_allow_methods, kAllowMethods);
  res.set(beast_http::field::access_control_allow_headers, kAllowHeaders);
  res.set(beast_http::field::access_control_max_age, max_age_);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return Result<Response>{std::move(res)};
}

void CorsMiddleware::after(const Request& req, const Context&, Response& res) {
  const std::string_view origin = origin_of(req);
  if (!origins_.empty()) res.set(beast_http::field::vary, "Origin");
  if (!allowed(origin)) return;
  res.set(beast_http::field::access_control_allow_origin, origin);
  res.set(beast_http::field::access_control_expose_headers, kExposeHeaders);
}

}  // namespace scribepod::http
