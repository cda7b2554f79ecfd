#include "http/api_key_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <boost/beast/websocket/rfc6455.hpp>

#include "http/router.h"

namespace scribepod::http {

KeyDigest sha256(std::string_view data) {
  KeyDigest out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

bool key_matches(const std::vector<KeyDigest>& keys, std::string_view presented) {
  const KeyDigest digest = sha256(presented);
  int matched = 0;
  for (const KeyDigest& k : keys) {
    matched |= CRYPTO_memcmp(k.data(), digest.data(), digest.size()) == 0 ? 1 : 0;
  }
  return matched != 0 && !presented.empty();
}

std::string_view presented_key(const Request& req) {
  const auto auth = req.find(beast_http::field::authorization);
  if (auth != req.end()) {
    std::string_view v = auth->value();
    constexpr std::string_view kBearer = "Bearer ";
    if (v.size() > kBearer.size() && strncasecmp(v.data(), kBearer.data(), kBearer.size()) == 0) {
      v.remove_prefix(kBearer.size());
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
      return v;
    }
  }
  const auto x = req.find("X-API-Key");
  return x == req.end() ? std::string_view{} : std::string_view{x->value()};
}

namespace {
std::string fingerprint(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  const KeyDigest d = sha256(key);
  std::string out = "key-";
  for (std::size_t i = 0; i < 6; ++i) {
    out.push_back(kHex[d[i] >> 4]);
    out.push_back(kHex[d[i] & 0xF]);
  }
  return out;
}

// Takes `?api_key=` out of the request target and returns it decoded ("" when
// absent), leaving the other parameters as they were.
std::string take_query_key(Request& req) {
  const std::string_view target = req.target();
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  auto key = query_param(target, "api_key");
  if (!key) return {};
  std::string rest;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part == "api_key" || part.starts_with("api_key=")) continue;
    rest += rest.empty() ? "" : "&";
    rest += part;
  }
  std::string stripped(target.substr(0, q));
  if (!rest.empty()) stripped += "?" + rest;
  req.target(stripped);
  return std::move(*key);
}
}  // namespace

ApiKeyMiddleware::ApiKeyMiddleware(const std::vector<std::string>& keys,
                                   const std::string& admin_key,
                                   std::vector<std::string> query_key_routes)
    : query_key_routes_(std::move(query_key_routes)) {
  for (const auto& k : keys) keys_.push_back(sha256(k));
  if (!admin_key.empty()) {
    admin_.push_back(sha256(admin_key));
    if (!keys_.empty()) keys_.push_back(sha256(admin_key));  // the admin key works everywhere
  }
}

std::optional<Result<Response>> ApiKeyMiddleware::before(Request& req, Context& ctx) {
  std::string from_query;
  if (!query_key_routes_.empty() && boost::beast::websocket::is_upgrade(req) &&
      std::find(query_key_routes_.begin(), query_key_routes_.end(), ctx.route) !=
          query_key_routes_.end()) {
    from_query = take_query_key(req);
  }
  const std::string_view header_key = presented_key(req);
  const std::string_view key = header_key.empty() ? std::string_view{from_query} : header_key;
  if (ctx.options.admin_only) {
    if (admin_.empty()) {
      return Result<Response>{Error{
          ErrorCode::kForbidden, "admin endpoints are disabled: no admin key is configured", {}}};
    }
    if (key.empty()) {
      return Result<Response>{
          Error{ErrorCode::kUnauthorized, "this endpoint needs the admin key", {}}};
    }
    if (!key_matches(admin_, key)) {
      return Result<Response>{
          Error{ErrorCode::kForbidden, "the key given is not the admin key", {}}};
    }
    ctx.client_key = fingerprint(key);
    return std::nullopt;
  }
  if (ctx.options.public_route || keys_.empty()) {
    if (!key.empty() && key_matches(keys_, key)) ctx.client_key = fingerprint(key);
    return std::nullopt;
  }
  if (key.empty()) {
    return Result<Response>{Error{ErrorCode::kUnauthorized,
                                  "missing API key: send Authorization: Bearer <key> or X-API-Key",
                                  {}}};
  }
  if (!key_matches(keys_, key)) {
    return Result<Response>{Error{ErrorCode::kUnauthorized, "invalid API key", {}}};
  }
  ctx.client_key = fingerprint(key);
  return std::nullopt;
}

void ApiKeyMiddleware::after(const Request&, const Context&, Response& res) {
  if (res.result() == StatusCode::unauthorized) {
    res.set(beast_http::field::www_authenticate, "Bearer realm=\"scribepod\"");
  }
}

}  // namespace scribepod::http
