#include "config/toml_guard.h"

#include <cstddef>
#include <string>

namespace scribepod::config {
namespace {

bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }

bool is_bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Offset of the first byte that is not part of well-formed UTF-8 (no
// overlong forms, no surrogates, nothing above U+10FFFF), or npos.
std::size_t first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      length = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      length = 3;
      if (b == 0xE0) low = 0xA0;   // overlong
      if (b == 0xED) high = 0x9F;  // surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      length = 4;
      if (b == 0xF0) low = 0x90;   // overlong
      if (b == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + length > s.size()) return i;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < low || second > high) return i;
    for (std::size_t k = 2; k < length; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if (next < 0x80 || next > 0xBF) return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

// "file:line:column" of a byte offset; columns count code points, as toml++'s do.
Error error_at(std::string_view text, std::size_t offset, std::string_view file,
               const std::string& what) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b == '\n') {
      ++line;
      column = 1;
    } else if ((b & 0xC0) != 0x80) {
      ++column;
    }
  }
  return Error::invalid_config("config file " + std::string(file) + ":" + std::to_string(line) +
                               ":" + std::to_string(column) + ": " + what);
}

}  // namespace

Status check_toml_text(std::string_view text, std::string_view source_name) {
  if (const auto bad = first_invalid_utf8(text); bad != std::string_view::npos) {
    return error_at(text, bad, source_name, "invalid UTF-8");
  }

  // A small TOML lexer: it knows strings, comments and brackets, which is
  // enough to tell where non-ASCII text and table headers may appear.
  enum class State { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  State state = State::kCode;
  std::size_t array_depth = 0;  // '[' of array values still open
  bool line_blank = true;       // only whitespace so far on this line
  bool in_header = false;       // between a header's '[' and the end of its line

  const auto at = [&](std::size_t i) { return i < text.size() ? text[i] : '\0'; };
  const auto starts = [&](std::size_t i, std::string_view s) {
    return text.substr(i, s.size()) == s;
  };

  const std::size_t text_start = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;  // UTF-8 BOM
  std::size_t i = text_start;
  while (i < text.size()) {
    const char c = text[i];
    switch (state) {
      case State::kCode:
        if (c == '\n') {
          line_blank = true;
          in_header = false;
          ++i;
          continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
          ++i;
          continue;
        }
        if (!is_ascii(c)) {
          return error_at(text, i, source_name, "non-ASCII character outside a string or comment");
        }
        if (c == '"' || c == '\'') {
          // A quote glued to the token before it is not a string to toml++,
          // which keeps scanning that token, possibly over non-ASCII text.
          const char before = i == text_start ? '\n' : text[i - 1];
          if (std::string_view(" \t\r\n=[{,.").find(before) == std::string_view::npos) {
            return error_at(text, i, source_name, "unexpected quote");
          }
        }
        if (c == '#') {
          state = State::kComment;
        } else if (c == '"') {
          state = starts(i, "\"\"\"") ? State::kMultiBasic : State::kBasic;
          i += state == State::kMultiBasic ? 2 : 0;
        } else if (c == '\'') {
          state = starts(i, "'''") ? State::kMultiLiteral : State::kLiteral;
          i += state == State::kMultiLiteral ? 2 : 0;
        } else if (c == '[') {
          if (array_depth == 0 && line_blank && !in_header) {
            in_header = true;
            std::size_t j = i + 1;
            if (at(j) == '[') ++j;
            while (at(j) == ' ' || at(j) == '\t') ++j;
            const char first = at(j);
            if (!(is_bare_key_char(first) || first == '"' || first == '\'' || first == ']')) {
              return error_at(text, j, source_name,
                              "a table header must start with a key (a name or a quoted string)");
            }
          } else if (!in_header) {
            ++array_depth;
          }
        } else if (c == ']') {
          if (!in_header && array_depth > 0) --array_depth;
        }
        line_blank = false;
        ++i;
        continue;

      case State::kComment:
        if (c == '\n') {
          state = State::kCode;
          continue;  // the newline is handled as code
        }
        ++i;
        continue;

      case State::kBasic:
      case State::kLiteral:
        if (c == '\n') {  // unterminated: toml++ reports it
          state = State::kCode;
          continue;
        }
        if (state == State::kBasic && c == '\\') {
          if (!is_ascii(at(i + 1))) {
            return error_at(text, i, source_name, "invalid escape sequence");
          }
          i += 2;
          continue;
        }
        if ((state == State::kBasic && c == '"') || (state == State::kLiteral && c == '\'')) {
          state = State::kCode;
        }
        ++i;
        continue;

      case State::kMultiBasic:
        if (c == '\\') {
          std::size_t j = i + 1;
          while (at(j) == ' ' || at(j) == '\t') ++j;
          if (at(j) == '\n' || (at(j) == '\r' && at(j + 1) == '\n')) {
            // Line-ending backslash: toml++ trims the whitespace that follows
            // and classifies the first other character.
            while (at(j) == ' ' || at(j) == '\t' || at(j) == '\r' || at(j) == '\n') ++j;
            if (j < text.size() && !is_ascii(at(j))) {
              return error_at(text, j, source_name,
                              "a non-ASCII character right after a line-ending backslash is not "
                              "supported");
            }
            i = j;
            continue;
          }
          if (!is_ascii(at(i + 1))) {
            return error_at(text, i, source_name, "invalid escape sequence");
          }
          i += 2;
          continue;
        }
        if (starts(i, "\"\"\"")) {
          i += 3;
          while (at(i) == '"') ++i;  // up to two quotes may end the content
          state = State::kCode;
          continue;
        }
        ++i;
        continue;

      case State::kMultiLiteral:
        if (starts(i, "'''")) {
          i += 3;
          while (at(i) == '\'') ++i;
          state = State::kCode;
          continue;
        }
        ++i;
        continue;
    }
  }
  return {};
}

}  // namespace scribepod::config
