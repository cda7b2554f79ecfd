#include <iostream>

#include "cli/commands.h"
#include "cli/config_flags.h"

namespace scribepod::cli {

Runner add_config_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "config", "Print the effective configuration as JSON (secrets redacted); exit 3 if invalid");
  auto flags = std::make_shared<ConfigFlags>();
  add_config_flags(*cmd, *flags);
  return [flags] {
    auto sources = make_sources(*flags);
    if (!sources) {
      std::cerr << "scribepod: " << sources.error().message << "\n";
      return static_cast<int>(kExitBadConfig);
    }
    auto cfg = config::load(*sources);
    if (!cfg) {
      std::cerr << "scribepod: invalid configuration: " << cfg.error().message << "\n";
      return static_cast<int>(kExitBadConfig);
    }
    std::cout << config::to_redacted_json(*cfg) << "\n";
    return static_cast<int>(kExitOk);
  };
}

}  // namespace scribepod::cli
