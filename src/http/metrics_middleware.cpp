#include "http/metrics_middleware.h"

#include <chrono>
#include <string>

namespace scribepod::http {

void MetricsMiddleware::after(const Request& req, const Context& ctx, Response& res) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.start).count();
  const std::string_view route = ctx.route.empty() ? std::string_view("unmatched") : ctx.route;
  const std::string status = std::to_string(res.result_int());
  metrics_.http_requests.with({route, beast_http::to_string(req.method()), status}).inc();
  metrics_.http_duration.with({route}).observe(seconds);
}

}  // namespace scribepod::http
