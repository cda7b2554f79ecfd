// Fuzzes the /v1/stream control-message parser (live/stream_protocol): any
// input must give a message or a clean error with a documented close code,
// and an accepted start must honour the contract's limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "live/stream_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = scribepod::live::parse_client_message(text);
  if (!parsed.ok()) {
    const int c = parsed.error.close_code;
    if (c != 1003 && c != 1007 && c != 1008) std::abort();
    if (parsed.error.message.empty() || parsed.error.code.empty()) std::abort();
    return 0;
  }
  if (const auto* s = std::get_if<scribepod::live::StartMessage>(&*parsed.message)) {
    if (s->sample_rate < scribepod::live::kMinSampleRate ||
        s->sample_rate > scribepod::live::kMaxSampleRate) {
      std::abort();
    }
    if (!s->session_id.empty() && s->resume_token.empty()) std::abort();
    if (s->last_final && *s->last_final < 0) std::abort();
    if (s->last_thoughts && *s->last_thoughts < 0) std::abort();
  }
  return 0;
}
