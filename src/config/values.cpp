#include "config/values.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "core/ascii.h"

namespace scribepod::config {
namespace {

using std::chrono::milliseconds;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Splits "123ms" into a non-negative number and its (lower-cased) suffix,
// allowing spaces between them. Fails on a missing number, a sign, a
// fraction or overflow.
struct NumberWithUnit {
  int64_t number = 0;
  std::string unit;
};

Result<NumberWithUnit> split_number_unit(std::string_view text, std::string_view what) {
  const std::string_view s = trim(text);
  std::size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == 0) return Error::invalid_config("expected " + std::string(what));
  NumberWithUnit out;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, out.number);
  if (ec != std::errc() || ptr != s.data() + i) {
    return Error::invalid_config(std::string(what) + " is too large");
  }
  out.unit = to_lower(trim(s.substr(i)));
  return out;
}

Result<int64_t> multiply(int64_t n, int64_t factor, std::string_view what) {
  if (n > std::numeric_limits<int64_t>::max() / factor) {
    return Error::invalid_config(std::string(what) + " is too large");
  }
  return n * factor;
}

}  // namespace

std::string_view trim(std::string_view s) { return trim_ascii(s, " \t\r\n\f\v"); }

std::string to_lower(std::string_view s) { return ascii_lowercase(s); }

// Control characters have no business in a host, a path, an origin or a key,
// and a CR/LF could end up in a response header.
bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// Shortest text that reads back as `d`; plain digits ("1000000", not
// "1e+06") for the numbers people write in config files.
std::string format_number(double d) {
  char buf[64];
  const double magnitude = std::fabs(d);
  const bool plain = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  const auto [ptr, ec] = plain ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
                               : std::to_chars(buf, buf + sizeof buf, d);
  if (ec != std::errc()) return "?";
  return std::string(buf, ptr);
}

Result<bool> parse_bool(std::string_view text) {
  const std::string s = to_lower(trim(text));
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  return Error::invalid_config("expected true or false");
}

Result<int64_t> parse_integer(std::string_view text) {
  std::string_view s = trim(text);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec == std::errc::invalid_argument || ptr != s.data() + s.size()) {
    return Error::invalid_config("expected an integer");
  }
  if (ec != std::errc()) return Error::invalid_config("integer out of range");
  return value;
}

Result<double> parse_double(std::string_view text) {
  std::string_view s = trim(text);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double value = 0;
  const auto [ptr, ec] =
      std::from_chars(s.data(), s.data() + s.size(), value, std::chars_format::general);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(value)) {
    return Error::invalid_config("expected a number");
  }
  return value;
}

Result<milliseconds> parse_duration(std::string_view text, milliseconds bare_unit) {
  auto parts = split_number_unit(text, "a duration");
  if (!parts) return std::move(parts).take_error();
  int64_t factor = 0;
  if (parts->unit.empty()) {
    factor = bare_unit.count();
  } else if (parts->unit == "ms") {
    factor = 1;
  } else if (parts->unit == "s") {
    factor = 1000;
  } else if (parts->unit == "m") {
    factor = 60'000;
  } else if (parts->unit == "h") {
    factor = 3'600'000;
  } else {
    return Error::invalid_config("unknown duration unit \"" + parts->unit +
                                 "\" (use ms, s, m or h)");
  }
  auto ms = multiply(parts->number, factor, "duration");
  if (!ms) return std::move(ms).take_error();
  return milliseconds(*ms);
}

Result<int64_t> parse_size(std::string_view text) {
  auto parts = split_number_unit(text, "a size");
  if (!parts) return std::move(parts).take_error();
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"", 1},           {"b", 1},      {"kb", 1000},          {"kib", kKiB},
      {"mb", 1'000'000}, {"mib", kMiB}, {"gb", 1'000'000'000}, {"gib", kGiB},
  };
  for (const auto& [name, factor] : kUnits) {
    if (parts->unit == name) return multiply(parts->number, factor, "size");
  }
  return Error::invalid_config("unknown size unit \"" + parts->unit +
                               "\" (use B, KB, KiB, MB, MiB, GB or GiB)");
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string format_duration(milliseconds value) {
  const int64_t ms = value.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_size(int64_t bytes) {
  if (bytes != 0 && bytes % kGiB == 0) return std::to_string(bytes / kGiB) + "GiB";
  if (bytes != 0 && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + "MiB";
  if (bytes != 0 && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + "KiB";
  return std::to_string(bytes) + "B";
}

std::string_view type_name(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return "string";
    case ValueType::kBool:
      return "bool";
    case ValueType::kInteger:
      return "integer";
    case ValueType::kDouble:
      return "number";
    case ValueType::kDuration:
      return "duration";
    case ValueType::kSize:
      return "size";
    case ValueType::kStringList:
      return "list of strings";
    case ValueType::kEnum:
      return "enum";
  }
  return "?";
}

}  // namespace scribepod::config
