// The request and response types every HTTP room speaks, and the per-request
// context that middleware and handlers share.
#pragma once

#include <boost/beast/http.hpp>
#include <chrono>
#include <map>
#include <string>

namespace scribepod::http {

namespace beast_http = boost::beast::http;

using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;
using StatusCode = beast_http::status;
using Verb = beast_http::verb;

// Flags a route carries into the middleware chain.
struct RouteOptions {
  bool public_route = false;       // no API key needed (health, readiness, metrics, the page)
  bool rate_limit_exempt = false;  // never throttled (health, readiness)
  bool admin_only = false;         // needs the admin key
};

// What the chain learns about a request while it passes through.
struct Context {
  std::string request_id;
  std::string client_ip;
  std::string session_id;  // X-Session-Id when present and set by the handler
  std::string client_key;  // non-secret id of the API key used ("" when none)
  std::string route;       // the matched pattern, e.g. "/v1/sessions/{id}"; "" when none
  RouteOptions options;
  std::map<std::string, std::string, std::less<>> params;  // path parameters
  std::chrono::steady_clock::time_point start;
  bool production = false;  // hide internals in error bodies

  // The parameter `name`, or "" if the route has none by that name.
  std::string_view param(std::string_view name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string_view{} : std::string_view{it->second};
  }
};

// Builds a response with the request's version and keep-alive.
Response make_response(const Request& req, StatusCode status, std::string body,
                       std::string_view content_type);

// JSON convenience: `body` is already serialized JSON.
inline Response json_response(const Request& req, StatusCode status, std::string body) {
  return make_response(req, status, std::move(body), "application/json");
}

}  // namespace scribepod::http
