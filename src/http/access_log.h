// AccessLogMiddleware: one log line per request, after the response is
// known: method, path (never the query, which may carry secrets), route,
// status, duration, sizes, client and the request and session ids.
// 5xx responses log at error level, 4xx at warn, the rest at info.
#pragma once

#include "http/middleware.h"

namespace scribepod::http {

class AccessLogMiddleware final : public Middleware {
 public:
  std::optional<Result<Response>> before(Request&, Context&) override { return std::nullopt; }
  void after(const Request& req, const Context& ctx, Response& res) override;
};

}  // namespace scribepod::http
