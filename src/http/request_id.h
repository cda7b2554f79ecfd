// RequestIdMiddleware: every request gets an id, echoed as X-Request-Id.
// A well-formed incoming X-Request-Id (1-128 chars of [A-Za-z0-9._-]) is
// kept so ids follow a request across proxies; anything else is replaced.
#pragma once

#include "http/middleware.h"

namespace scribepod::http {

class RequestIdMiddleware final : public Middleware {
 public:
  std::optional<Result<Response>> before(Request& req, Context& ctx) override;
  void after(const Request& req, const Context& ctx, Response& res) override;
};

bool valid_request_id(std::string_view id);
// 32 lowercase hex characters from a per-thread PRNG (ids are not secrets).
std::string new_request_id();

}  // namespace scribepod::http
