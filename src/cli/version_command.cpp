#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "core/version.h"

namespace scribepod::cli {

Runner add_version_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the version and build");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "print JSON");
  return [json] {
    if (*json) {
      std::cout << nlohmann::json{{"version", kVersion},
                                  {"commit", kGitCommit},
                                  {"build", kBuildType}}
                       .dump()
                << "\n";
    } else {
      std::cout << "scribepod " << kVersion << " (" << kGitCommit << ", " << kBuildType << ")\n";
    }
    return kExitOk;
  };
}

}  // namespace scribepod::cli
