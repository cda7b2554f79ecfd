// The configuration flags every subcommand that reads configuration shares:
// --config, --env-file, --set KEY=VALUE and the common shortcuts (--host,
// --port, --threads, --log-level, --allow-unauthenticated). They become the
// top layer of config::Sources.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace scribepod::cli {

struct ConfigFlags {
  std::string config_file;
  std::string env_file;
  std::vector<std::string> sets;
  std::optional<std::string> host;
  std::optional<std::string> port;
  std::optional<std::string> threads;
  std::optional<std::string> log_level;
  bool allow_unauthenticated = false;
};

void add_config_flags(CLI::App& app, ConfigFlags& flags);

// Builds the sources from flags and the process environment; fails on a
// malformed --set.
Result<config::Sources> make_sources(const ConfigFlags& flags);

// Exit statuses, documented in `scribepod --help` and docs/cli.md.
// The configuration from the flags, or std::nullopt after printing why to
// stderr (the caller exits with kExitBadConfig).
std::optional<config::Config> load_config_or_report(const ConfigFlags& flags);

// For commands whose stdout is their result (transcribe, think): engine
// chatter goes to stderr, warnings and worse only, as text.
void quiet_logs_for_cli();

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,
  kExitUsage = 2,
  kExitBadConfig = 3,
  kExitCannotListen = 4,
};

}  // namespace scribepod::cli
