// libFuzzer target for config::parse_dotenv, the parser of .env files.
//
// Beyond "no crash, no sanitizer report" it checks two properties: every
// parsed name is a valid variable name and every value is free of NUL bytes;
// and writing the variables back out double-quoted and parsing that again
// gives the same map. Parsed variables are then fed to config::load as an
// environment, to exercise the value parsers on whatever the fuzzer found.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/dotenv.h"

namespace {

bool valid_name(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string double_quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using scribepod::config::parse_dotenv;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_dotenv(text);
  if (!parsed.ok()) return 0;

  std::string rewritten;
  for (const auto& [name, value] : *parsed) {
    if (!valid_name(name)) std::abort();
    if (value.find('\0') != std::string::npos) std::abort();
    rewritten += name + "=" + double_quoted(value) + "\n";
  }
  auto reparsed = parse_dotenv(rewritten);
  if (!reparsed.ok() || *reparsed != *parsed) std::abort();

  // The variables as an environment. Drop the keys-file variables: the
  // fuzzer must not make the loader read arbitrary files.
  scribepod::config::Sources sources;
  sources.environment = std::move(*parsed);
  sources.environment.erase("SCRIBEPOD_AUTH_API_KEYS_FILE");
  sources.environment.erase("API_KEYS_FILE");
  std::vector<std::string> warnings;
  auto config = scribepod::config::load(sources, warnings);
  if (config.ok()) (void)scribepod::config::to_redacted_json(*config);
  return 0;
}
