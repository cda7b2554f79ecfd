// The value types of settings, and the text parsers and formatters for them.
//
// A setting's text (from the environment, a .env file or a flag) is parsed by
// the parser of its type; the key table (keys.h) adds each key's range. All
// parsers ignore surrounding whitespace and fail with kInvalidConfig.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace scribepod::config {

enum class ValueType {
  kString,      // any text without control characters
  kBool,        // true/false/1/0/yes/no/on/off
  kInteger,     // decimal integer within [min, max]
  kDouble,      // decimal number within [min, max] (min may be exclusive)
  kDuration,    // 250ms, 10s, 5m, 1h, or a bare integer in the key's unit
  kSize,        // 16KiB, 10MB, 10MiB, 512B, or bare bytes
  kStringList,  // a TOML array of strings, or comma-separated text
  kEnum,        // one of a fixed set of words, case-insensitive
};

// A parsed setting. Which alternative holds depends on the ValueType:
// kString/kEnum -> std::string, kBool -> bool, kInteger/kSize -> int64_t
// (bytes for sizes), kDouble -> double, kDuration -> milliseconds,
// kStringList -> std::vector<std::string>.
using Value = std::variant<std::string, bool, int64_t, double, std::chrono::milliseconds,
                           std::vector<std::string>>;

inline constexpr int64_t kKiB = 1024;
inline constexpr int64_t kMiB = 1024 * kKiB;
inline constexpr int64_t kGiB = 1024 * kMiB;

// Human name of a type, for the docs ("integer", "duration", ...).
std::string_view type_name(ValueType type);

Result<bool> parse_bool(std::string_view text);
Result<int64_t> parse_integer(std::string_view text);  // optional sign
Result<double> parse_double(std::string_view text);    // finite only
// `bare_unit` is the unit of a number without suffix. Suffixes (any case):
// ms, s, m, h. No sign, no fraction.
Result<std::chrono::milliseconds> parse_duration(std::string_view text,
                                                 std::chrono::milliseconds bare_unit);
// Suffixes (any case): B; KB, MB, GB (powers of 1000); KiB, MiB, GiB (powers
// of 1024). A bare number is bytes.
Result<int64_t> parse_size(std::string_view text);
// Comma-separated; items trimmed, empty items dropped.
std::vector<std::string> split_list(std::string_view text);

// "1h", "5m", "10s", "250ms": the largest unit that divides exactly.
std::string format_duration(std::chrono::milliseconds value);
// "10MiB", "16KiB", "1000B": the largest binary unit that divides exactly.
std::string format_size(int64_t bytes);
// Shortest text that reads back as `d`, in plain digits where sensible.
std::string format_number(double d);

// Text helpers shared by the config files.
std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);   // ASCII only
bool has_control_char(std::string_view s);  // bytes 0x00-0x1f and 0x7f

}  // namespace scribepod::config
