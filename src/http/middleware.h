// Middleware: the cross-cutting steps every request passes through, in one
// ordered chain (request id, access log, CORS, auth, rate limits).
//
// before() runs in chain order and may stop the request: it returns a
// Response to answer at once (a CORS preflight) or an Error to reject it.
// after() runs in reverse order for every middleware whose before() ran,
// on every response, errors included, so headers such as X-Request-Id and
// Access-Control-Allow-Origin are never missing from a rejection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "core/result.h"
#include "http/message.h"
#include "http/router.h"

namespace scribepod::http {

class Middleware {
 public:
  virtual ~Middleware() = default;
  // nullopt: continue down the chain.
  virtual std::optional<Result<Response>> before(Request& req, Context& ctx) = 0;
  virtual void after(const Request& /*req*/, const Context& /*ctx*/, Response& /*res*/) {}
};

class MiddlewareChain {
 public:
  void add(std::unique_ptr<Middleware> m) { chain_.push_back(std::move(m)); }

  // Runs the chain around the matched route's handler (or the 404/405 that
  // stands in for a missing one). Handler exceptions become 500s.
  boost::asio::awaitable<Response> run(Request& req, Context& ctx, const RouteMatch& match) const;

  // Runs the chain for a request the server itself must refuse (e.g. a body
  // over the limit), so the refusal is logged and carries the usual headers.
  Response refuse(Request& req, Context& ctx, const Error& error) const;

  // For upgrade requests: runs before() of every middleware. Returns the
  // rejection to send, or nullopt when the upgrade may proceed (after()
  // then runs with a 101 response, so the upgrade is logged).
  std::optional<Response> admit_upgrade(Request& req, Context& ctx) const;

 private:
  Response finish(Request& req, Context& ctx, Result<Response> outcome, std::size_t ran,
                  const RouteMatch* match) const;
  std::vector<std::unique_ptr<Middleware>> chain_;
};

}  // namespace scribepod::http
