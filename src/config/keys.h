// The table of every configuration setting, and the parsers for their types.
//
// Each setting is described once, by a KeySpec: its dotted key (which is also
// its TOML path, e.g. "server.port"), the environment variables that set it
// (the first is always the primary SCRIBEPOD_<KEY> name, then the aliases the
// original Node/Python app used), its type and allowed range, a one-line
// description, whether it is a secret, and a setter/getter into Config. The
// loader (config.cpp), `scribepod config`, docs/configuration.md and the
// example TOML file are all checked against this table, so a new setting is
// added here and nowhere else.
//
// Text from the environment, a .env file or a flag is turned into a typed
// Value (values.h) by parse_value(); TOML values arrive typed and go through
// check_value(). Both apply the same range rules.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/values.h"
#include "core/result.h"

namespace scribepod::config {

struct KeySpec {
  std::string_view key;               // dotted: "server.port", "data_dir"
  std::vector<std::string_view> env;  // env[0] is the primary SCRIBEPOD_* name
  ValueType type = ValueType::kString;
  std::string_view doc;  // one line, for docs and --help
  bool secret = false;   // redacted in `scribepod config` and errors

  // kInteger and kSize: inclusive bounds (bytes for sizes).
  // kDuration: inclusive bounds in milliseconds.
  int64_t min = 0;
  int64_t max = 0;
  // kDouble: bounds; the lower one is exclusive when min_exclusive is set.
  double min_double = 0;
  double max_double = 0;
  bool min_exclusive = false;
  // kDuration: the unit of a bare integer, which is also the resolution: a
  // value must be a whole number of units ("1500ms" is rejected for seconds).
  std::chrono::milliseconds unit{1};
  // kEnum: the canonical (lower-case) words, and extra spellings that map to
  // one of them, e.g. {"warning", "warn"}.
  std::vector<std::string_view> choices;
  std::vector<std::pair<std::string_view, std::string_view>> choice_aliases;

  void (*set)(Config&, const Value&) = nullptr;
  Value (*get)(const Config&) = nullptr;
};

// Every setting, in documentation order (grouped by section).
const std::vector<KeySpec>& key_table();

// The entry for a dotted key, or nullptr.
const KeySpec* find_key(std::string_view key);

// The closest known key to a misspelt one ("server.prot" -> "server.port"),
// or "" when nothing is close.
std::string suggest_key(std::string_view unknown);

// "; did you mean \"server.port\"?" for a close key, else "".
std::string did_you_mean(std::string_view unknown);

// "server.port" -> "SCRIBEPOD_SERVER_PORT". Every key's env[0] is this.
std::string primary_env_var(std::string_view key);

// Text -> Value of the key's type, range-checked. Lists are split on commas,
// items trimmed and empty items dropped. On failure the error message says
// what was expected (see describe_expected); the caller adds key and source.
Result<Value> parse_value(const KeySpec& spec, std::string_view text);

// Range/choice check of an already typed value (the TOML path). Returns the
// value, normalised (enum aliases resolved), or the same error as parse_value.
Result<Value> check_value(const KeySpec& spec, Value value);

// "an integer 1..65535", "a duration 1ms..1h (e.g. 10s, 250ms; bare number = ms)".
std::string describe_expected(const KeySpec& spec);

// Value -> text that parse_value accepts back: "10s", "10MiB", "true",
// "a,b". Used by to_redacted_json, the docs and the example file.
std::string format_value(const KeySpec& spec, const Value& value);

// A value as it may appear in a message: quoted, at most 80 bytes, control
// and non-ASCII bytes escaped, so messages are always clean ASCII.
std::string quote_value(std::string_view value);

// "invalid value <shown> for <key> (from <source>): <why.message>", with
// "(secret, not shown)" in place of <shown> for a secret key.
Error invalid_value_error(const KeySpec& spec, std::string_view shown, std::string_view source,
                          const Error& why);

}  // namespace scribepod::config
