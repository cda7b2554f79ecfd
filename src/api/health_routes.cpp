#include "api/health_routes.h"

#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "core/version.h"

namespace scribepod::api {

namespace {
using http::Context;
using http::Request;
using http::Response;

nlohmann::json components_json(const Readiness& readiness) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, c] : readiness.snapshot()) {
    out[name] = {{"ready", c.ready}, {"detail", c.detail}};
  }
  return out;
}
}  // namespace

void add_health_routes(http::Router& router, HealthSources src) {
  const http::RouteOptions probe{.public_route = true, .rate_limit_exempt = true};
  auto shared = std::make_shared<HealthSources>(std::move(src));

  router.add(
      http::Verb::get, "/health",
      [shared](Request& req, Context&) -> boost::asio::awaitable<Result<Response>> {
        const double uptime =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - shared->started)
                .count();
        nlohmann::json body = {
            {"status", "ok"},
            {"service", "scribepod"},
            {"version", kVersion},
            {"commit", kGitCommit},
            {"environment", shared->environment},
            {"timestamp", utc_timestamp_now()},
            {"uptime", uptime},
            {"activeSessions", shared->active_sessions ? shared->active_sessions() : 0},
            {"activeConnections", shared->active_connections ? shared->active_connections() : 0},
            {"components", components_json(*shared->readiness)},
        };
        Response res = http::json_response(req, http::StatusCode::ok, body.dump());
        res.set(http::beast_http::field::cache_control, "no-store");
        co_return res;
      },
      probe);

  router.add(
      http::Verb::get, "/ready",
      [shared](Request& req, Context&) -> boost::asio::awaitable<Result<Response>> {
        const auto missing = shared->readiness->not_ready();
        nlohmann::json body = {
            {"status", missing.empty() ? "ready" : "not_ready"},
            {"notReady", missing},
            {"components", components_json(*shared->readiness)},
            {"timestamp", utc_timestamp_now()},
        };
        Response res = http::json_response(
            req, missing.empty() ? http::StatusCode::ok : http::StatusCode::service_unavailable,
            body.dump());
        res.set(http::beast_http::field::cache_control, "no-store");
        if (!missing.empty()) res.set(http::beast_http::field::retry_after, "5");
        co_return res;
      },
      probe);
}

}  // namespace scribepod::api
