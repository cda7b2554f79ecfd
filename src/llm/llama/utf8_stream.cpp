#include "llm/llama/utf8_stream.h"

#include <cstddef>
#include <cstdint>

namespace scribepod::llm {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Sequence length by lead byte, the way llama.cpp's grammar decodes UTF-8
// (by the high nibble); 0 for a byte that cannot start a character.
std::size_t sequence_length(unsigned char lead) {
  switch (lead >> 4U) {
    case 0xC:
    case 0xD:
      return 2;
    case 0xE:
      return 3;
    case 0xF:
      return 4;
    default:
      return lead < 0x80 ? 1 : 0;
  }
}

bool valid_sequence(const unsigned char* s, std::size_t len) {
  static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  std::uint32_t cp = s[0] & kLeadMask[len];
  for (std::size_t i = 1; i < len; ++i) {
    cp = (cp << 6U) | (s[i] & 0x3FU);
  }
  switch (len) {
    case 2:
      return cp >= 0x80;
    case 3:
      return cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
    case 4:
      return s[0] <= 0xF4 && cp >= 0x10000 && cp <= 0x10FFFF;
    default:
      return false;
  }
}

}  // namespace

std::string Utf8Stream::push(std::string_view bytes) {
  pending_.append(bytes);
  const auto* p = reinterpret_cast<const unsigned char*>(pending_.data());
  const std::size_t n = pending_.size();
  std::string out;
  std::size_t i = 0;
  while (i < n) {
    const std::size_t len = sequence_length(p[i]);
    if (len == 1) {
      out += static_cast<char>(p[i++]);
      continue;
    }
    if (len == 0) {  // a stray continuation byte
      out += kReplacement;
      ++i;
      continue;
    }
    std::size_t have = 1;
    while (have < len && i + have < n && (p[i + have] & 0xC0U) == 0x80U) {
      ++have;
    }
    if (have < len) {
      if (i + have == n) {
        break;  // unfinished: wait for more bytes
      }
      out += kReplacement;  // cut short by a non-continuation byte
      i += have;
      continue;
    }
    if (valid_sequence(p + i, len)) {
      out.append(pending_, i, len);
    } else {
      out += kReplacement;
    }
    i += len;
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8Stream::finish() {
  const bool unfinished = !pending_.empty();
  pending_.clear();
  return unfinished ? std::string(kReplacement) : std::string();
}

}  // namespace scribepod::llm
