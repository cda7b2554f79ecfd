#include "http/access_log.h"

#include <chrono>

#include "telemetry/log.h"

namespace scribepod::http {

void AccessLogMiddleware::after(const Request& req, const Context& ctx, Response& res) {
  const unsigned status = res.result_int();
  const log::Level level = status >= 500   ? log::Level::kError
                           : status >= 400 ? log::Level::kWarn
                                           : log::Level::kInfo;
  if (!log::enabled(level)) return;
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ctx.start)
          .count();
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  std::string_view session = ctx.session_id;
  if (session.empty()) {
    const auto it = req.find("X-Session-Id");
    if (it != req.end()) session = it->value().substr(0, 64);
  }
  const auto ua = req.find(beast_http::field::user_agent);
  log::write(level, "request",
             {{"request_id", ctx.request_id},
              {"session_id", session},
              {"method", std::string_view(beast_http::to_string(req.method()))},
              {"path", path.substr(0, 512)},
              {"route", ctx.route},
              {"status", status},
              {"duration_ms", ms},
              {"bytes_in", req.body().size()},
              {"bytes_out", res.body().size()},
              {"client_ip", ctx.client_ip},
              {"client_key", ctx.client_key},
              {"user_agent", ua == req.end() ? std::string_view{} : ua->value().substr(0, 256)}});
}

}  // namespace scribepod::http
