#include "mind/json_field_stream.h"

#include <utility>

namespace scribepod::mind {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

// Length of the UTF-8 sequence a lead byte starts, 0 if it cannot start one.
std::size_t sequence_length(std::uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Whether byte `k` (1-based position after the lead) may follow `lead`;
// rejects overlong forms, surrogates and code points above U+10FFFF.
bool valid_continuation(std::uint8_t lead, std::size_t k, std::uint8_t b) {
  if (k == 1) {
    if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;
    if (lead == 0xED) return b >= 0x80 && b <= 0x9F;
    if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;
    if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;
  }
  return b >= 0x80 && b <= 0xBF;
}

}  // namespace

JsonFieldStream::JsonFieldStream(std::string field) : field_(std::move(field)) {}

std::string JsonFieldStream::feed(std::string_view piece) {
  for (char c : piece) {
    if (complete_) break;
    if (in_string_) {
      on_string_byte(c);
    } else {
      on_structural(c);
    }
  }
  return drain(/*at_end=*/false);
}

std::string JsonFieldStream::finish() {
  if (in_string_ && role_ == Role::kTarget) {
    if (hex_digits_ >= 0) abandon_unicode_escape();
    flush_lone_high_surrogate();
  }
  return drain(/*at_end=*/true);
}

void JsonFieldStream::on_structural(char c) {
  if (is_space(c)) return;
  const bool at_root = depth_ == 1 && root_is_object_;
  switch (c) {
    case '"':
      in_string_ = true;
      escape_ = false;
      hex_digits_ = -1;
      high_surrogate_ = 0;
      if (at_root && expect_key_) {
        role_ = Role::kKey;
        key_.clear();
        expect_key_ = false;
      } else if (at_root && target_next_) {
        role_ = Role::kTarget;
        found_ = true;
      } else {
        role_ = Role::kOther;
      }
      target_next_ = false;
      return;
    case '{':
    case '[':
      if (depth_ == 0) {
        root_is_object_ = c == '{';
        expect_key_ = root_is_object_;
      }
      target_next_ = false;
      ++depth_;
      return;
    case '}':
    case ']':
      if (depth_ > 0) --depth_;
      target_next_ = false;
      expect_colon_ = false;
      return;
    case ':':
      if (at_root && expect_colon_) target_next_ = key_matches_;
      expect_colon_ = false;
      return;
    case ',':
      if (at_root) expect_key_ = true;
      target_next_ = false;
      expect_colon_ = false;
      return;
    default:
      // A number, true/false/null or stray text: not the field's string.
      target_next_ = false;
      return;
  }
}

void JsonFieldStream::on_string_byte(char c) {
  if (role_ == Role::kOther) {
    // Only the end of the string matters; \uXXXX holds no quote or backslash.
    if (escape_) {
      escape_ = false;
    } else if (c == '\\') {
      escape_ = true;
    } else if (c == '"') {
      end_string();
    }
    return;
  }
  if (hex_digits_ >= 0) {
    const int d = hex_digit(c);
    if (d < 0) {
      // A broken \u escape: mark it and read this byte afresh.
      abandon_unicode_escape();
      on_string_byte(c);
      return;
    }
    hex_value_ = hex_value_ * 16 + static_cast<std::uint32_t>(d);
    if (++hex_digits_ == 4) finish_unicode_escape();
    return;
  }
  if (escape_) {
    escape_ = false;
    if (c == 'u') {
      hex_digits_ = 0;
      hex_value_ = 0;
      return;
    }
    flush_lone_high_surrogate();
    switch (c) {
      case 'n':
        emit_decoded("\n");
        return;
      case 't':
        emit_decoded("\t");
        return;
      case 'r':
        emit_decoded("\r");
        return;
      case 'b':
        emit_decoded("\b");
        return;
      case 'f':
        emit_decoded("\f");
        return;
      default:  // \" \\ \/ and, leniently, any other escaped byte as itself
        emit_decoded(std::string_view(&c, 1));
        return;
    }
  }
  if (c == '\\') {
    escape_ = true;
    return;
  }
  flush_lone_high_surrogate();
  if (c == '"') {
    end_string();
    return;
  }
  emit_decoded(std::string_view(&c, 1));
}

void JsonFieldStream::end_string() {
  in_string_ = false;
  if (role_ == Role::kKey) {
    key_matches_ = key_ == field_;
    expect_colon_ = true;
  } else if (role_ == Role::kTarget) {
    complete_ = true;
  }
  role_ = Role::kNone;
}

void JsonFieldStream::emit_decoded(std::string_view bytes) {
  if (role_ == Role::kTarget) {
    pending_ += bytes;
  } else if (role_ == Role::kKey) {
    // Only equality with the field name matters, so the key is capped.
    for (char b : bytes) {
      if (key_.size() <= field_.size()) key_ += b;
    }
  }
}

void JsonFieldStream::emit_code_point(std::uint32_t cp) {
  char out[4];
  std::size_t n = 0;
  if (cp < 0x80) {
    out[n++] = static_cast<char>(cp);
  } else if (cp < 0x800) {
    out[n++] = static_cast<char>(0xC0 | (cp >> 6));
    out[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out[n++] = static_cast<char>(0xE0 | (cp >> 12));
    out[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out[n++] = static_cast<char>(0xF0 | (cp >> 18));
    out[n++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  }
  emit_decoded(std::string_view(out, n));
}

void JsonFieldStream::finish_unicode_escape() {
  const std::uint32_t unit = hex_value_;
  hex_digits_ = -1;
  if (unit >= 0xD800 && unit <= 0xDBFF) {
    flush_lone_high_surrogate();
    high_surrogate_ = unit;
    return;
  }
  if (unit >= 0xDC00 && unit <= 0xDFFF) {
    if (high_surrogate_ != 0) {
      const std::uint32_t cp = 0x10000 + ((high_surrogate_ - 0xD800) << 10) + (unit - 0xDC00);
      high_surrogate_ = 0;
      emit_code_point(cp);
    } else {
      emit_decoded(kReplacement);
    }
    return;
  }
  flush_lone_high_surrogate();
  emit_code_point(unit);
}

void JsonFieldStream::abandon_unicode_escape() {
  hex_digits_ = -1;
  flush_lone_high_surrogate();
  emit_decoded(kReplacement);
}

void JsonFieldStream::flush_lone_high_surrogate() {
  if (high_surrogate_ != 0) {
    high_surrogate_ = 0;
    emit_decoded(kReplacement);
  }
}

// Moves the complete, valid UTF-8 prefix of pending_ out; invalid bytes
// become U+FFFD. Holds back a valid-so-far incomplete tail unless at_end.
std::string JsonFieldStream::drain(bool at_end) {
  std::string out;
  std::size_t i = 0;
  while (i < pending_.size()) {
    const std::uint8_t lead = byte_at(pending_, i);
    const std::size_t n = sequence_length(lead);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    std::size_t k = 1;
    while (k < n && i + k < pending_.size() &&
           valid_continuation(lead, k, byte_at(pending_, i + k))) {
      ++k;
    }
    if (k == n) {
      out.append(pending_, i, n);
      i += n;
    } else if (i + k == pending_.size() && !at_end) {
      break;  // may still complete with the next piece
    } else {
      out += kReplacement;
      i += k;  // the maximal valid prefix is replaced as one
    }
  }
  pending_.erase(0, i);
  return out;
}

}  // namespace scribepod::mind
