// libFuzzer target for the two parsers of language-model output: the thoughts
// validator (parse_thoughts) and the streaming field extractor
// (JsonFieldStream).
//
// Input layout: one byte that picks a split point, then the model output.
// Besides the sanitizers, it checks that the extractor gives the same text
// whether the output arrives whole, split in two, or byte by byte; that the
// text is valid UTF-8; and that a successful parse honours the schema (all
// five fields non-empty, trimmed, within their limits).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mind/json_field_stream.h"
#include "mind/thoughts_schema.h"

namespace {

using scribepod::mind::JsonFieldStream;

void check(bool condition) {
  if (!condition) std::abort();
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      n = 1;
      cp = c;
    } else if ((c & 0xE0U) == 0xC0U) {
      n = 2;
      cp = c & 0x1FU;
    } else if ((c & 0xF0U) == 0xE0U) {
      n = 3;
      cp = c & 0x0FU;
    } else if ((c & 0xF8U) == 0xF0U) {
      n = 4;
      cp = c & 0x07U;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0U) != 0x80U) return false;
      cp = (cp << 6) | (b & 0x3FU);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

std::string extract(std::string_view text, std::size_t split, std::string_view field) {
  JsonFieldStream s{std::string(field)};
  std::string out = s.feed(text.substr(0, split));
  out += s.feed(text.substr(split));
  out += s.finish();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t split = text.empty() ? 0 : data[0] % (text.size() + 1);

  for (std::string_view field : {"response", "intent"}) {
    const std::string whole = extract(text, text.size(), field);
    check(valid_utf8(whole));
    check(extract(text, split, field) == whole);
    if (text.size() <= 512) {
      JsonFieldStream bytewise{std::string(field)};
      std::string out;
      for (char c : text) out += bytewise.feed(std::string_view(&c, 1));
      out += bytewise.finish();
      check(out == whole);
    }
  }

  auto parsed = scribepod::mind::parse_thoughts(text);
  if (parsed.ok()) {
    for (const std::string* v : {&parsed->intent, &parsed->person_is, &parsed->extra_state,
                                 &parsed->thoughts, &parsed->response}) {
      check(!v->empty());
      check(v->front() != ' ' && v->back() != ' ');
      check(v->size() <= 4 * 800);
    }
  } else {
    check(!parsed.error().message.empty());
  }
  return 0;
}
