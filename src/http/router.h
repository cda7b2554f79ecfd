// Router: maps (method, path) to a handler, with `{name}` path parameters.
//
// Patterns are literal segments and `{name}` segments, e.g.
// "/v1/podcasts/{id}/audio". A `{name}` segment matches one non-empty
// segment, percent-decoded into Context::params; a final `{name...}` takes
// one or more remaining segments ("a/b.js"). Matching ignores the query
// string. A path that matches a pattern under another method yields 405 with
// the allowed methods; no match yields 404.
//
// A route may instead carry an upgrade handler: when a WebSocket upgrade
// request arrives for it, the connection's stream is handed over after the
// middleware chain has approved the request.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/message.h"

namespace scribepod::http {

using Handler = std::function<boost::asio::awaitable<Result<Response>>(Request&, Context&)>;
// Takes ownership of the connection. The request is the upgrade request.
using UpgradeHandler =
    std::function<boost::asio::awaitable<void>(boost::beast::tcp_stream, Request, Context)>;

struct RouteMatch {
  const Handler* handler = nullptr;         // set for an ordinary match
  const UpgradeHandler* upgrade = nullptr;  // set for an upgrade route
  const std::string* pattern = nullptr;
  RouteOptions options;
  std::map<std::string, std::string, std::less<>> params;
  std::string allowed_methods;  // for 405: "GET, POST"
  bool path_matched = false;    // some route has this path (under another method)
};

class Router {
 public:
  // Registers `handler` for `method` on `pattern`. Throws std::invalid_argument
  // for a malformed pattern or a duplicate (a programmer error at start-up).
  void add(Verb method, std::string pattern, Handler handler, RouteOptions options = {});
  // Registers a WebSocket route (GET + Upgrade).
  void add_upgrade(std::string pattern, UpgradeHandler handler, RouteOptions options = {});

  // Finds the route for `method` and `target` (path plus optional query).
  RouteMatch match(Verb method, std::string_view target) const;

 private:
  struct Route {
    std::string pattern;
    std::vector<std::string> segments;  // "{name}" marks a parameter
    Verb method;
    Handler handler;
    UpgradeHandler upgrade;
    RouteOptions options;
  };
  std::vector<Route> routes_;
};

// Decodes %XX escapes; false on a malformed escape or a decoded NUL.
bool percent_decode(std::string_view in, std::string& out, bool plus_as_space = false);

// The query parameter `name` from a target, decoded; nullopt when absent.
std::optional<std::string> query_param(std::string_view target, std::string_view name);

}  // namespace scribepod::http
