#include "api/metrics_routes.h"

#include <memory>

#include "telemetry/metrics.h"
#include "telemetry/service_metrics.h"

namespace scribepod::api {

void add_metrics_routes(http::Router& router, MetricsSources sources) {
  const metrics::ServiceMetrics& m = metrics::service();
  // The handles unbind the callbacks when the route (and the router) goes.
  auto bound = std::make_shared<std::vector<metrics::CallbackHandle>>();
  if (sources.active_sessions) {
    bound->push_back(m.active_sessions.bind(
        {}, [fn = std::move(sources.active_sessions)] { return static_cast<double>(fn()); }));
  }
  router.add(
      http::Verb::get, "/metrics",
      [bound](http::Request& req,
              http::Context&) -> boost::asio::awaitable<Result<http::Response>> {
        http::Response res = http::make_response(
            req, http::StatusCode::ok, metrics::registry().render(), metrics::kContentType);
        res.set(http::beast_http::field::cache_control, "no-store");
        co_return res;
      },
      http::RouteOptions{.public_route = true, .rate_limit_exempt = true});
}

}  // namespace scribepod::api
