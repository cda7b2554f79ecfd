// GET /metrics: the process registry (telemetry/metrics.h) in the Prometheus
// text format 0.0.4, for a Prometheus server to scrape.
//
// Like /health it is public (no API key) and never rate limited, so a
// scraper needs no secret and is never throttled; it exposes counts and
// timings only, never request contents, keys or ids. Deployments that must
// not publish these figures keep the port off the public network (the
// reverse proxy in front of Scribepod should not forward /metrics).
//
// Values that live elsewhere (the session count) are read at each scrape
// through the callbacks in MetricsSources, bound for as long as the router
// holding the route lives.
#pragma once

#include <functional>

#include "http/router.h"

namespace scribepod::api {

struct MetricsSources {
  // Live conversation sessions (scribepod_active_sessions); may be empty.
  std::function<std::size_t()> active_sessions;
};

void add_metrics_routes(http::Router& router, MetricsSources sources);

}  // namespace scribepod::api
