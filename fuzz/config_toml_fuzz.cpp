// libFuzzer target for the TOML path of the configuration loader
// (config::load_from_toml_text), and for the scalar value parsers.
//
// Properties checked besides sanitizer cleanliness: an accepted config
// renders as JSON without throwing, every value of an accepted config is
// valid for its key, and formatting a value and parsing it back is lossless.
// Short inputs are also fed to parse_value of every key as raw text.
//
// The CMake fuzz build links Debian's toml++ shared library, so only our code
// is instrumented. To fuzz toml++ itself as it ships (built with NDEBUG by
// g++: its asserts compiled out, no __builtin_assume), build it header-only:
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -include utility -Isrc \
//     -DTOML_HEADER_ONLY=1 '-DTOML_ASSERT(expr)=static_assert(true)' \
//     fuzz/config_toml_fuzz.cpp src/config/*.cpp src/core/error.cpp
// (With toml++'s debug asserts on, "x = [ }" trips a precondition assert that
// the shipped library handles as a normal parse error.) UBSan still reports
// the library's __builtin_unreachable paths; config/toml_guard.h keeps the
// inputs known to reach them away from the parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.h"
#include "config/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace config = scribepod::config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto loaded = config::load_from_toml_text(text, "fuzz.toml");
  if (loaded.ok()) {
    (void)config::to_redacted_json(*loaded);
    for (const config::KeySpec& spec : config::key_table()) {
      const config::Value value = spec.get(*loaded);
      if (!config::check_value(spec, value).ok()) std::abort();
      auto reparsed = config::parse_value(spec, config::format_value(spec, value));
      // A list's items may contain commas, which do not survive the
      // comma-separated text form; everything else must round-trip.
      if (spec.type != config::ValueType::kStringList && (!reparsed.ok() || *reparsed != value)) {
        std::abort();
      }
    }
  } else if (loaded.error().message.empty()) {
    std::abort();
  }

  if (size <= 256) {
    for (const config::KeySpec& spec : config::key_table()) {
      auto value = config::parse_value(spec, text);
      if (value.ok() && !config::check_value(spec, *value).ok()) std::abort();
    }
  }
  return 0;
}
