#include "config/config.h"

#include <unistd.h>  // environ

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "config/dotenv.h"
#include "config/keys.h"
#include "config/toml_source.h"

namespace scribepod::config {
namespace {

// Config files, .env files and key files are small; anything bigger is a
// mistake (a wrong path), not configuration.
constexpr std::size_t kMaxFileBytes = 1024 * 1024;

// SCRIBEPOD_* variables that are not settings, so unknown-variable warnings
// skip them: the test runner's source directory, and the names the CLI may
// use for the config and .env paths.
constexpr std::string_view kNotSettings[] = {"SCRIBEPOD_SOURCE_DIR", "SCRIBEPOD_CONFIG",
                                             "SCRIBEPOD_ENV_FILE"};

Result<std::string> read_bounded(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Error::invalid_config("cannot read " + std::string(what) + " " + quote_value(path) +
                                 ": it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return Error::invalid_config("cannot read " + std::string(what) + " " + quote_value(path) +
                                 ": " + std::generic_category().message(err));
  }
  std::string data(kMaxFileBytes + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.bad()) {
    return Error::invalid_config("cannot read " + std::string(what) + " " + quote_value(path));
  }
  data.resize(static_cast<std::size_t>(in.gcount()));
  if (data.size() > kMaxFileBytes) {
    return Error::invalid_config(std::string(what) + " " + quote_value(path) + " is larger than " +
                                 std::to_string(kMaxFileBytes) + " bytes");
  }
  return data;
}

// Applies the sources one at a time to a Config, remembering for each key
// which source set it last, so later checks can say where a value came from.
class Loader {
 public:
  explicit Loader(std::vector<std::string>* warnings) : warnings_(warnings) {}

  Status apply_toml(std::string_view text, std::string_view file) {
    return apply_toml_text(text, file,
                           [this](const KeySpec& spec, const Value& value, std::string source) {
                             set(spec, value, std::move(source));
                           });
  }

  // `vars` is the process environment or the variables of a .env file;
  // `layer` describes it for messages ("environment variable", ...).
  Status apply_env(const std::map<std::string, std::string>& vars, const std::string& layer) {
    for (const KeySpec& spec : key_table()) {
      const std::string* chosen = nullptr;
      std::string_view chosen_name;
      for (std::string_view name : spec.env) {
        const auto it = vars.find(std::string(name));
        if (it == vars.end()) continue;
        if (chosen == nullptr) {
          chosen = &it->second;
          chosen_name = name;
        } else if (it->second != *chosen) {
          warn(layer + " " + std::string(name) + " is ignored: " + std::string(chosen_name) +
               " also sets " + std::string(spec.key) + " and wins");
        }
      }
      if (chosen == nullptr) continue;
      const std::string source = layer + " " + std::string(chosen_name);
      auto value = parse_value(spec, *chosen);
      if (!value) return invalid_value_error(spec, quote_value(*chosen), source, value.error());
      set(spec, *value, source);
    }
    for (const auto& [name, value] : vars) {
      if (!name.starts_with("SCRIBEPOD_") || is_setting_variable(name) ||
          std::find(std::begin(kNotSettings), std::end(kNotSettings), name) !=
              std::end(kNotSettings)) {
        continue;
      }
      warn(layer + " " + name + " is not a setting and is ignored" + variable_hint(name));
    }
    return {};
  }

  Status apply_flags(const std::map<std::string, std::string>& flags) {
    for (const auto& [key, text] : flags) {
      const KeySpec* spec = find_key(key);
      if (spec == nullptr) {
        return Error::invalid_config("unknown setting " + quote_value(key) +
                                     " (from the command line)" + did_you_mean(key));
      }
      auto value = parse_value(*spec, text);
      if (!value)
        return invalid_value_error(*spec, quote_value(text), "the command line", value.error());
      set(*spec, *value, "the command line");
    }
    return {};
  }

  // Reads auth.api_keys_file, if set, and adds its keys to auth.api_keys.
  Status load_keys_file() {
    const std::string& path = config_.auth.api_keys_file;
    if (path.empty()) return {};
    auto text = read_bounded(path, "API keys file");
    if (!text) {
      return Error::invalid_config(text.error().message + " (auth.api_keys_file, from " +
                                   origin("auth.api_keys_file") + ")");
    }
    std::string_view rest = *text;
    std::size_t line_number = 0;
    while (!rest.empty()) {
      ++line_number;
      const auto newline = rest.find('\n');
      std::string_view line = rest.substr(0, newline);
      rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
      const auto first = line.find_first_not_of(" \t\r");
      if (first == std::string_view::npos || line[first] == '#') continue;
      line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
      if (std::any_of(line.begin(), line.end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return u <= 0x20 || u == 0x7f;
          })) {
        return Error::invalid_config("API keys file " + quote_value(path) + " line " +
                                     std::to_string(line_number) +
                                     ": a key must not contain whitespace or control characters");
      }
      auto& keys = config_.auth.api_keys;
      if (std::find(keys.begin(), keys.end(), line) == keys.end()) keys.emplace_back(line);
    }
    return {};
  }

  // Checks that involve more than one value's syntax, and normalises
  // (lower-case origins, no duplicate keys).
  Status validate() {
    if (config_.server.host.empty()) {
      return Error::invalid_config("server.host must not be empty (from " + origin("server.host") +
                                   ")");
    }
    if (config_.data_dir.empty()) {
      return Error::invalid_config("data_dir must not be empty (from " + origin("data_dir") + ")");
    }

    auto& keys = config_.auth.api_keys;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::string& k = keys[i];
      const bool bad = k.empty() || std::any_of(k.begin(), k.end(), [](char c) {
                         return static_cast<unsigned char>(c) <= 0x20;
                       });
      if (bad) {
        return Error::invalid_config("auth.api_keys: key " + std::to_string(i + 1) +
                                     " is empty or contains whitespace (from " +
                                     origin("auth.api_keys") + ")");
      }
    }
    std::vector<std::string> unique;
    for (std::string& k : keys) {
      if (std::find(unique.begin(), unique.end(), k) == unique.end())
        unique.push_back(std::move(k));
    }
    keys = std::move(unique);

    const std::string& admin = config_.auth.admin_key;
    if (std::any_of(admin.begin(), admin.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20; })) {
      return Error::invalid_config("auth.admin_key contains whitespace (from " +
                                   origin("auth.admin_key") + ")");
    }

    const std::string& url = config_.asr.remote_url;
    if (!url.empty() && !url.starts_with("http://") && !url.starts_with("https://")) {
      return Error::invalid_config("invalid value " + quote_value(url) +
                                   " for asr.remote_url (from " + origin("asr.remote_url") +
                                   "): expected an http:// or https:// URL");
    }
    if (config_.asr.engine == "remote" && url.empty()) {
      return Error::invalid_config("asr.remote_url must be set when asr.engine is remote (from " +
                                   origin("asr.engine") + ")");
    }

    const std::string& llm_url = config_.llm.remote_url;
    if (!llm_url.empty() && !llm_url.starts_with("http://") && !llm_url.starts_with("https://")) {
      return Error::invalid_config("invalid value " + quote_value(llm_url) +
                                   " for llm.remote_url (from " + origin("llm.remote_url") +
                                   "): expected an http:// or https:// URL");
    }
    if (config_.mind.engine == "openai" && llm_url.empty()) {
      return Error::invalid_config("llm.remote_url must be set when mind.engine is openai (from " +
                                   origin("mind.engine") + ")");
    }
    const std::string& pg = config_.store.postgres_url;
    if (!pg.empty() && !pg.starts_with("postgresql://") && !pg.starts_with("postgres://")) {
      return Error::invalid_config("store.postgres_url (from " + origin("store.postgres_url") +
                                   ") must start with postgresql:// or postgres://");
    }
    if (config_.store.backend == "postgres" && pg.empty()) {
      return Error::invalid_config(
          "store.postgres_url must be set when store.backend is postgres (from " +
          origin("store.backend") + ")");
    }

    for (std::string& o : config_.cors.allowed_origins) {
      if (!valid_origin(o)) {
        return Error::invalid_config(
            "invalid origin " + quote_value(o) + " in cors.allowed_origins (from " +
            origin("cors.allowed_origins") +
            "): expected an exact origin scheme://host[:port], without path or trailing slash "
            "(wildcards are not supported)");
      }
      std::transform(o.begin(), o.end(), o.begin(), [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      });
    }
    return {};
  }

  Config take() && { return std::move(config_); }

 private:
  void set(const KeySpec& spec, const Value& value, std::string source) {
    spec.set(config_, value);
    origins_.insert_or_assign(std::string(spec.key), std::move(source));
  }

  std::string origin(const std::string& key) const {
    const auto it = origins_.find(key);
    return it == origins_.end() ? "the default" : it->second;
  }

  void warn(std::string message) {
    if (warnings_ != nullptr) warnings_->push_back(std::move(message));
  }

  static bool is_setting_variable(std::string_view name) {
    return std::any_of(key_table().begin(), key_table().end(), [&](const KeySpec& spec) {
      return std::find(spec.env.begin(), spec.env.end(), name) != spec.env.end();
    });
  }

  // SCRIBEPOD_SERVER_PROT -> "; did you mean SCRIBEPOD_SERVER_PORT?"
  static std::string variable_hint(std::string_view name) {
    if (name.size() > 80) return {};  // nothing is that long
    std::string key(name.substr(std::string_view("SCRIBEPOD_").size()));
    for (char& c : key) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    // Try each '_' as the section separator: "server_prot" -> "server.prot".
    for (std::size_t i = 0; i < key.size(); ++i) {
      if (key[i] != '_') continue;
      std::string dotted = key;
      dotted[i] = '.';
      const std::string suggestion = suggest_key(dotted);
      if (!suggestion.empty() && find_key(suggestion) != nullptr) {
        return "; did you mean " + primary_env_var(suggestion) + "?";
      }
    }
    const std::string suggestion = suggest_key(key);
    if (!suggestion.empty() && find_key(suggestion) != nullptr) {
      return "; did you mean " + primary_env_var(suggestion) + "?";
    }
    return {};
  }

  // scheme://host[:port], nothing after; the scheme http or https.
  static bool valid_origin(std::string_view o) {
    std::string_view rest;
    if (o.starts_with("http://")) {
      rest = o.substr(7);
    } else if (o.starts_with("https://")) {
      rest = o.substr(8);
    } else {
      return false;
    }
    if (rest.empty()) return false;
    return std::none_of(rest.begin(), rest.end(), [](char c) {
      return c == '/' || c == '?' || c == '#' || c == '*' || c == '@' ||
             static_cast<unsigned char>(c) <= 0x20;
    });
  }

  Config config_;
  std::map<std::string, std::string> origins_;
  std::vector<std::string>* warnings_;
};

Result<Config> load_impl(const Sources& sources, std::vector<std::string>* warnings) {
  Loader loader(warnings);

  if (sources.toml_path) {
    auto text = read_bounded(*sources.toml_path, "config file");
    if (!text) return std::move(text).take_error();
    if (auto status = loader.apply_toml(*text, *sources.toml_path); !status) return status.error();
  }

  if (sources.dotenv_path) {
    const std::string& path = *sources.dotenv_path;
    std::error_code ec;
    const bool present = std::filesystem::exists(path, ec);
    if (present || sources.dotenv_required) {
      auto text = read_bounded(path, ".env file");
      if (!text) return std::move(text).take_error();
      auto vars = parse_dotenv(*text);
      if (!vars) {
        return Error::invalid_config(".env file " + quote_value(path) + ": " +
                                     vars.error().message);
      }
      if (auto status = loader.apply_env(*vars, ".env file " + quote_value(path) + ", variable");
          !status) {
        return status.error();
      }
    }
  }

  if (auto status = loader.apply_env(sources.environment, "environment variable"); !status) {
    return status.error();
  }
  if (auto status = loader.apply_flags(sources.flags); !status) return status.error();
  if (auto status = loader.load_keys_file(); !status) return status.error();
  if (auto status = loader.validate(); !status) return status.error();
  return std::move(loader).take();
}

}  // namespace

Result<Config> load(const Sources& sources) { return load_impl(sources, nullptr); }

Result<Config> load(const Sources& sources, std::vector<std::string>& warnings) {
  return load_impl(sources, &warnings);
}

Result<Config> load_from_toml_text(std::string_view text, std::string_view source_name) {
  if (text.size() > kMaxFileBytes) {
    return Error::invalid_config("config file " + std::string(source_name) + " is larger than " +
                                 std::to_string(kMaxFileBytes) + " bytes");
  }
  Loader loader(nullptr);
  if (auto status = loader.apply_toml(text, source_name); !status) return status.error();
  if (auto status = loader.validate(); !status) return status.error();
  return std::move(loader).take();
}

std::string to_redacted_json(const Config& config, int indent) {
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  for (const KeySpec& spec : key_table()) {
    const Value value = spec.get(config);
    nlohmann::ordered_json out;
    switch (spec.type) {
      case ValueType::kString:
      case ValueType::kEnum: {
        const auto& s = std::get<std::string>(value);
        out = spec.secret ? (s.empty() ? "" : "***") : s;
        break;
      }
      case ValueType::kBool:
        out = std::get<bool>(value);
        break;
      case ValueType::kInteger:
      case ValueType::kSize:
        out = std::get<int64_t>(value);
        break;
      case ValueType::kDouble:
        out = std::get<double>(value);
        break;
      case ValueType::kDuration:
        out = format_value(spec, value);
        break;
      case ValueType::kStringList: {
        out = nlohmann::ordered_json::array();
        for (const std::string& item : std::get<std::vector<std::string>>(value)) {
          out.push_back(spec.secret ? "***" : item);
        }
        break;
      }
    }
    // "rate_limit.per_client_rps" -> root["rate_limit"]["per_client_rps"].
    nlohmann::ordered_json* node = &root;
    std::string_view rest = spec.key;
    for (auto dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
      node = &(*node)[std::string(rest.substr(0, dot))];
      rest.remove_prefix(dot + 1);
    }
    (*node)[std::string(rest)] = std::move(out);
  }
  // Values from the environment need not be UTF-8; never throw over it.
  return root.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return env;
}

}  // namespace scribepod::config
