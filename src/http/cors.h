// CorsMiddleware: an allowlist of exact origins (scheme://host[:port]).
//
// - An allowed Origin gets Access-Control-Allow-Origin echoing it, with
//   X-Session-Id, X-Request-Id and Retry-After exposed to scripts.
// - A disallowed Origin gets no CORS headers (the browser blocks the
//   response); its preflight is refused with 403.
// - A preflight (OPTIONS + Origin + Access-Control-Request-Method) from an
//   allowed origin is answered here with 204 and never reaches auth.
// - Requests without Origin (curl, servers) pass untouched.
#pragma once

#include <chrono>
#include <string>
#include <unordered_set>
#include <vector>

#include "http/middleware.h"

namespace scribepod::http {

class CorsMiddleware final : public Middleware {
 public:
  CorsMiddleware(const std::vector<std::string>& allowed_origins, std::chrono::seconds max_age);
  std::optional<Result<Response>> before(Request& req, Context& ctx) override;
  void after(const Request& req, const Context& ctx, Response& res) override;

  bool allowed(std::string_view origin) const;

 private:
  std::unordered_set<std::string> origins_;
  std::string max_age_;
};

}  // namespace scribepod::http
