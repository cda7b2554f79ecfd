#include "http/middleware.h"

#include <fmt/format.h>

#include "http/error_response.h"
#include "telemetry/log.h"

namespace scribepod::http {

Response MiddlewareChain::finish(Request& req, Context& ctx, Result<Response> outcome,
                                 std::size_t ran, const RouteMatch* match) const {
  Response res = outcome.ok() ? std::move(outcome).value()
                              : error_response(outcome.error(), req, ctx.production);
  if (match != nullptr && res.result() == StatusCode::method_not_allowed) {
    res.set(beast_http::field::allow, match->allowed_methods);
  }
  for (std::size_t i = ran; i-- > 0;) chain_[i]->after(req, ctx, res);
  return res;
}

boost::asio::awaitable<Response> MiddlewareChain::run(Request& req, Context& ctx,
                                                      const RouteMatch& match) const {
  std::size_t ran = 0;
  std::optional<Result<Response>> early;
  for (const auto& m : chain_) {
    ++ran;
    early = m->before(req, ctx);
    if (early) break;
  }
  if (early) co_return finish(req, ctx, std::move(*early), ran, &match);

  Result<Response> outcome = Error::not_found("no such endpoint");
  if (match.handler != nullptr) {
    try {
      outcome = co_await (*match.handler)(req, ctx);
    } catch (const std::exception& e) {
      log::error("handler failed",
                 {{"request_id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
      outcome = Error::internal(e.what());
    }
  } else if (match.path_matched) {
    outcome = Error{
        ErrorCode::kMethodNotAllowed,
        fmt::format("{} is not allowed here; allowed: {}",
                    std::string_view(beast_http::to_string(req.method())), match.allowed_methods),
        {}};
  }
  co_return finish(req, ctx, std::move(outcome), ran, &match);
}

Response MiddlewareChain::refuse(Request& req, Context& ctx, const Error& error) const {
  std::size_t ran = 0;
  std::optional<Result<Response>> early;
  for (const auto& m : chain_) {
    ++ran;
    early = m->before(req, ctx);
    if (early) break;
  }
  return finish(req, ctx, early ? std::move(*early) : Result<Response>{error}, ran, nullptr);
}

std::optional<Response> MiddlewareChain::admit_upgrade(Request& req, Context& ctx) const {
  std::size_t ran = 0;
  for (const auto& m : chain_) {
    ++ran;
    if (auto early = m->before(req, ctx)) return finish(req, ctx, std::move(*early), ran, nullptr);
  }
  Response switching{StatusCode::switching_protocols, req.version()};
  for (std::size_t i = ran; i-- > 0;) chain_[i]->after(req, ctx, switching);
  return std::nullopt;
}

}  // namespace scribepod::http
