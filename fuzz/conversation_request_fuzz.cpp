// Fuzzes the original REST flow's input parsers: the /generate_thots JSON
// body, the chunk query value and the X-Session-Id and Idempotency-Key
// headers. Any input must
// give a value or a clean error, and accepted values must honour the limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/conversation_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  scribepod::api::ThotsLimits limits;
  limits.max_lines = 8;
  limits.max_line_bytes = 64;
  auto lines = scribepod::api::parse_generate_thots(text, limits);
  if (lines) {
    if (lines->empty() || lines->size() > limits.max_lines) std::abort();
    for (const auto& l : *lines) {
      if (l.size() > limits.max_line_bytes) std::abort();
    }
  }
  auto chunk = scribepod::api::parse_chunk(text);
  if (chunk && (*chunk < 1 || *chunk > 1'000'000)) std::abort();
  auto id = scribepod::api::parse_session_header(text);
  if (id && !id->empty() && id->size() != 36) std::abort();
  auto key = scribepod::api::parse_idempotency_key(text);
  if (key && (key->size() > 255 || *key != text)) std::abort();
  if (key) {
    for (const char c : *key) {
      if (c < '!' || c > '~') std::abort();
    }
  }
  return 0;
}
