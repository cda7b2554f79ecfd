// GET /health and GET /ready.
//
// /health is liveness: 200 whenever the process can answer, with
// {status, service, version, timestamp, uptime, activeSessions, ...}.
// /ready is readiness: 200 when every component in the Readiness registry
// is ready, else 503 with Retry-After naming the ones that are not.
// Both are public and never rate limited, so probes always get through.
#pragma once

#include <chrono>
#include <functional>

#include "core/readiness.h"
#include "http/router.h"

namespace scribepod::api {

struct HealthSources {
  const Readiness* readiness = nullptr;
  std::chrono::steady_clock::time_point started;
  std::string environment;
  // Live conversations; supplied by the session store.
  std::function<std::size_t()> active_sessions;
  std::function<std::size_t()> active_connections;
};

void add_health_routes(http::Router& router, HealthSources sources);

}  // namespace scribepod::api
