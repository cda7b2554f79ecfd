// ApiKeyMiddleware: API keys from `Authorization: Bearer KEY` or
// `X-API-Key: KEY`.
//
// Keys are compared as SHA-256 digests with CRYPTO_memcmp against every
// configured key, so neither the content nor the length of a key leaks
// through timing. Public routes skip the check; admin routes need the admin
// key. With no keys configured, non-admin routes are open (the server only
// allows that on loopback unless told otherwise, see cli/serve).
// Context::client_key becomes a short non-secret fingerprint of the key, for
// logs and rate limits.
// Browsers cannot set headers on a WebSocket, so for WebSocket upgrade
// requests to the routes in `query_key_routes` (patterns, e.g. "/v1/stream")
// the key may also come as `?api_key=KEY`; it is then removed from the
// request target so nothing downstream can log it.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "http/middleware.h"

namespace scribepod::http {

using KeyDigest = std::array<unsigned char, 32>;

KeyDigest sha256(std::string_view data);
// Constant-time membership test of `presented` among `keys`.
bool key_matches(const std::vector<KeyDigest>& keys, std::string_view presented);
// The credential from Authorization: Bearer or X-API-Key, "" when absent.
std::string_view presented_key(const Request& req);

class ApiKeyMiddleware final : public Middleware {
 public:
  ApiKeyMiddleware(const std::vector<std::string>& keys, const std::string& admin_key,
                   std::vector<std::string> query_key_routes = {});
  std::optional<Result<Response>> before(Request& req, Context& ctx) override;
  void after(const Request& req, const Context& ctx, Response& res) override;

  bool enabled() const { return !keys_.empty(); }

 private:
  std::vector<KeyDigest> keys_;
  std::vector<KeyDigest> admin_;
  std::vector<std::string> query_key_routes_;
};

}  // namespace scribepod::http
