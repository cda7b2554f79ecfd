#include "http/router.h"

#include <stdexcept>

#include "core/ascii.h"

namespace scribepod::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const std::size_t j = path.find('/', i);
    const std::size_t end = j == std::string_view::npos ? path.size() : j;
    out.push_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

bool is_param(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

bool is_tail_param(std::string_view seg) {
  return seg.size() > 5 && seg.front() == '{' && seg.substr(seg.size() - 4) == "...}";
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out, bool plus_as_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;  // needs two hex digits
      const int hi = ascii_hex_value(in[i + 1]);
      const int lo = ascii_hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') return false;
      i += 2;
    } else if (c == '+' && plus_as_space) {
      c = ' ';
    }
    out.push_back(c);
  }
  return true;
}

std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (key == name) {
      std::string value;
      if (eq == std::string_view::npos) return value;
      if (!percent_decode(pair.substr(eq + 1), value, true)) return std::nullopt;
      return value;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

namespace {
std::vector<std::string> parse_pattern(const std::string& pattern) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  }
  std::vector<std::string> segs;
  for (std::string_view s : split_path(pattern)) {
    if ((s.find('{') != std::string_view::npos || s.find('}') != std::string_view::npos) &&
        !is_param(s)) {
      throw std::invalid_argument("malformed parameter segment in route: " + pattern);
    }
    segs.emplace_back(s);
  }
  return segs;
}
}  // namespace

void Router::add(Verb method, std::string pattern, Handler handler, RouteOptions options) {
  auto segs = parse_pattern(pattern);
  for (const Route& r : routes_) {
    if (r.pattern == pattern && r.method == method) {
      throw std::invalid_argument("duplicate route: " + pattern);
    }
  }
  routes_.push_back(
      Route{std::move(pattern), std::move(segs), method, std::move(handler), {}, options});
}

void Router::add_upgrade(std::string pattern, UpgradeHandler handler, RouteOptions options) {
  auto segs = parse_pattern(pattern);
  routes_.push_back(
      Route{std::move(pattern), std::move(segs), Verb::get, {}, std::move(handler), options});
}

RouteMatch Router::match(Verb method, std::string_view target) const {
  RouteMatch result;
  const std::string_view path = target.substr(0, target.find('?'));
  const auto segs = split_path(path);
  // HEAD is served by GET handlers (the server drops the body).
  const Verb effective = method == Verb::head ? Verb::get : method;
  for (const Route& r : routes_) {
    const bool tail = !r.segments.empty() && is_tail_param(r.segments.back());
    if (tail ? segs.size() < r.segments.size() : r.segments.size() != segs.size()) continue;
    std::map<std::string, std::string, std::less<>> params;
    bool ok = true;
    for (std::size_t i = 0; i < r.segments.size() && ok; ++i) {
      const std::string& want = r.segments[i];
      if (tail && i + 1 == r.segments.size()) {
        // "{name...}" takes the rest of the path, each segment decoded.
        std::string rest;
        for (std::size_t k = i; k < segs.size() && ok; ++k) {
          std::string decoded;
          ok = percent_decode(segs[k], decoded) && decoded.find('/') == std::string::npos;
          if (!rest.empty()) rest.push_back('/');
          rest += decoded;
        }
        if (ok) params.emplace(want.substr(1, want.size() - 5), std::move(rest));
      } else if (is_param(want)) {
        std::string decoded;
        ok = !segs[i].empty() && percent_decode(segs[i], decoded);
        if (ok) params.emplace(want.substr(1, want.size() - 2), std::move(decoded));
      } else {
        ok = want == segs[i];
      }
    }
    if (!ok) continue;
    result.path_matched = true;
    if (r.method != effective) {
      // GET routes also answer HEAD.
      for (std::string_view name : {std::string_view(beast_http::to_string(r.method)),
                                    std::string_view(r.method == Verb::get ? "HEAD" : "")}) {
        if (name.empty() || result.allowed_methods.find(name) != std::string::npos) continue;
        if (!result.allowed_methods.empty()) result.allowed_methods += ", ";
        result.allowed_methods += name;
      }
      continue;
    }
    if (result.handler == nullptr && result.upgrade == nullptr) {
      result.handler = r.handler ? &r.handler : nullptr;
      result.upgrade = r.upgrade ? &r.upgrade : nullptr;
      result.pattern = &r.pattern;
      result.options = r.options;
      result.params = std::move(params);
    }
  }
  return result;
}

}  // namespace scribepod::http
