#include "http/request_id.h"

#include <random>

namespace scribepod::http {

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = rng();
    for (int i = 0; i < 16; ++i) {
      id[static_cast<std::size_t>(half * 16 + i)] = kHex[v & 0xF];
      v >>= 4;
    }
  }
  return id;
}

std::optional<Result<Response>> RequestIdMiddleware::before(Request& req, Context& ctx) {
  const auto it = req.find("X-Request-Id");
  if (it != req.end() && valid_request_id(it->value())) {
    ctx.request_id = std::string(it->value());
  } else {
    ctx.request_id = new_request_id();
  }
  return std::nullopt;
}

void RequestIdMiddleware::after(const Request&, const Context& ctx, Response& res) {
  res.set("X-Request-Id", ctx.request_id);
}

}  // namespace scribepod::http
