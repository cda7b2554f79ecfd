// MetricsMiddleware: counts every request by route pattern, method and
// status, and times it per route (scribepod_http_requests_total and
// scribepod_http_request_duration_seconds, see telemetry/service_metrics.h).
//
// The route label is the pattern the router matched (ctx.route), never the
// raw path, so the number of series stays bounded whatever clients send;
// requests that matched no route are counted as "unmatched". Place it early
// in the chain (right after the request id), so requests refused by CORS,
// auth or the rate limiter are counted too: after() runs for every
// middleware whose before() ran.
#pragma once

#include "http/middleware.h"
#include "telemetry/service_metrics.h"

namespace scribepod::http {

class MetricsMiddleware final : public Middleware {
 public:
  explicit MetricsMiddleware(const metrics::ServiceMetrics& metrics = metrics::service())
      : metrics_(metrics) {}
  std::optional<Result<Response>> before(Request&, Context&) override { return std::nullopt; }
  void after(const Request& req, const Context& ctx, Response& res) override;

 private:
  const metrics::ServiceMetrics& metrics_;
};

}  // namespace scribepod::http
