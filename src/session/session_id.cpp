#include "session/session_id.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <stdexcept>

#include "core/ascii.h"

namespace scribepod::session {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void fill_random(std::array<uint8_t, 16>& bytes) {
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t n = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // No entropy source at all: nothing safe to hand out.
      throw std::runtime_error("getrandom failed: no CSPRNG for session ids");
    }
    filled += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string new_session_id() {
  std::array<uint8_t, 16> b{};
  fill_random(b);
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0F]);
  }
  return out;
}

std::optional<std::string> parse_session_id(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position) {
      if (out[i] != '-') return std::nullopt;
      continue;
    }
    const int v = ascii_hex_value(out[i]);
    if (v < 0) return std::nullopt;
    out[i] = kHex[v];
  }
  if (out[14] != '4') return std::nullopt;  // version nibble
  const char variant = out[19];
  if (variant != '8' && variant != '9' && variant != 'a' && variant != 'b') return std::nullopt;
  return out;
}

}  // namespace scribepod::session
