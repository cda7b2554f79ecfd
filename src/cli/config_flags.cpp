#include "cli/config_flags.h"

#include <fmt/format.h>

#include <iostream>

#include "telemetry/log.h"

namespace scribepod::cli {

void add_config_flags(CLI::App& app, ConfigFlags& flags) {
  app.add_option("-c,--config", flags.config_file,
                 "TOML configuration file (default: $SCRIBEPOD_CONFIG when set)");
  app.add_option("--env-file", flags.env_file, "a .env file to read (default: ./.env if present)");
  app.add_option("--set", flags.sets, "override any key, e.g. --set server.threads=4 (repeatable)")
      ->type_name("KEY=VALUE");
  app.add_option("--host", flags.host, "listen address (server.host)");
  app.add_option("-p,--port", flags.port, "listen port (server.port)");
  app.add_option("--threads", flags.threads, "I/O threads, 0 = one per core (server.threads)");
  app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error|off (log.level)");
  app.add_flag("--allow-unauthenticated", flags.allow_unauthenticated,
               "serve without API keys on a non-loopback address");
}

Result<config::Sources> make_sources(const ConfigFlags& flags) {
  config::Sources src;
  src.environment = config::process_environment();
  if (!flags.config_file.empty()) {
    src.toml_path = flags.config_file;
  } else if (auto it = src.environment.find("SCRIBEPOD_CONFIG");
             it != src.environment.end() && !it->second.empty()) {
    src.toml_path = it->second;
  }
  if (!flags.env_file.empty()) {
    src.dotenv_path = flags.env_file;
    src.dotenv_required = true;
  } else {
    src.dotenv_path = ".env";
  }
  for (const std::string& s : flags.sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error::invalid_config(fmt::format("--set expects KEY=VALUE, got \"{}\"", s));
    }
    src.flags[s.substr(0, eq)] = s.substr(eq + 1);
  }
  if (flags.host) src.flags["server.host"] = *flags.host;
  if (flags.port) src.flags["server.port"] = *flags.port;
  if (flags.threads) src.flags["server.threads"] = *flags.threads;
  if (flags.log_level) src.flags["log.level"] = *flags.log_level;
  if (flags.allow_unauthenticated) src.flags["server.allow_unauthenticated"] = "true";
  return src;
}

std::optional<config::Config> load_config_or_report(const ConfigFlags& flags) {
  auto sources = make_sources(flags);
  if (!sources) {
    std::cerr << "scribepod: " << sources.error().message << "\n";
    return std::nullopt;
  }
  auto cfg = config::load(*sources);
  if (!cfg) {
    std::cerr << "scribepod: invalid configuration: " << cfg.error().message << "\n";
    return std::nullopt;
  }
  return std::move(cfg).value();
}

void quiet_logs_for_cli() {
  log::Options quiet;
  quiet.level = log::Level::kWarn;
  quiet.json = false;
  quiet.to_stdout = false;
  (void)log::init(quiet);
}

}  // namespace scribepod::cli
