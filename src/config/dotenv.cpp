#include "config/dotenv.h"

#include <optional>

namespace scribepod::config {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

bool is_key_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

bool is_key_char(char c) { return is_key_start(c) || (c >= '0' && c <= '9'); }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

Error line_error(std::size_t line, const std::string& what) {
  return Error::invalid_config("line " + std::to_string(line) + ": " + what);
}

// What may follow a closing quote: whitespace, then optionally a comment.
bool only_comment_left(std::string_view rest) {
  rest = trim_left(rest);
  return rest.empty() || rest.front() == '#';
}

// Parses the value part of one line (after '='), quotes and comments included.
Result<std::string> parse_value(std::string_view raw, std::size_t line) {
  const std::string_view s = trim_left(raw);
  if (s.empty()) return std::string();

  if (s.front() == '\'') {
    const auto close = s.find('\'', 1);
    if (close == std::string_view::npos) return line_error(line, "unterminated single quote");
    if (!only_comment_left(s.substr(close + 1))) {
      return line_error(line, "unexpected text after the closing quote");
    }
    return std::string(s.substr(1, close - 1));
  }

  if (s.front() == '"') {
    std::string out;
    for (std::size_t i = 1; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '"') {
        if (!only_comment_left(s.substr(i + 1))) {
          return line_error(line, "unexpected text after the closing quote");
        }
        return out;
      }
      if (c == '\\' && i + 1 < s.size()) {
        const char next = s[++i];
        switch (next) {
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case '"':
          case '\\':
            out += next;
            break;
          default:  // not an escape we know: keep it as written
            out += '\\';
            out += next;
            break;
        }
        continue;
      }
      out += c;
    }
    return line_error(line, "unterminated double quote");
  }

  // Unquoted: up to a '#' that follows whitespace ("KEY= # note" is empty).
  std::string_view value = raw;
  for (std::size_t i = 1; i < raw.size(); ++i) {
    if (raw[i] == '#' && is_space(raw[i - 1])) {
      value = raw.substr(0, i);
      break;
    }
  }
  return std::string(trim_right(trim_left(value)));
}

}  // namespace

Result<std::map<std::string, std::string>> parse_dotenv(std::string_view text) {
  if (text.size() > kMaxDotenvBytes) {
    return Error::invalid_config("file is larger than " + std::to_string(kMaxDotenvBytes) +
                                 " bytes");
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM

  std::map<std::string, std::string> vars;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    if (line.find('\0') != std::string_view::npos) {
      return line_error(line_number, "NUL byte");
    }
    line = trim_left(line);
    if (line.empty() || line.front() == '#') continue;

    if (line.starts_with("export") && line.size() > 6 && is_space(line[6])) {
      line = trim_left(line.substr(6));
    }

    std::size_t key_end = 0;
    while (key_end < line.size() && is_key_char(line[key_end])) ++key_end;
    const std::string_view key = line.substr(0, key_end);
    const std::string_view after_key = trim_left(line.substr(key_end));

    if (after_key.empty() || after_key.front() != '=') {
      if (key.empty() || (key_end < line.size() && !is_space(line[key_end]))) {
        return line_error(line_number, "invalid character in variable name (expected KEY=value)");
      }
      return line_error(line_number, "expected KEY=value, found no '='");
    }
    if (key.empty()) return line_error(line_number, "missing variable name before '='");
    if (!is_key_start(key.front())) {
      return line_error(line_number, "variable name must not start with a digit");
    }

    auto value = parse_value(after_key.substr(1), line_number);
    if (!value) return std::move(value).take_error();
    vars.insert_or_assign(std::string(key), std::move(*value));
  }
  return vars;
}

}  // namespace scribepod::config
