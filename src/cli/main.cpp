// scribepod: the one executable. See `scribepod --help`.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/config_flags.h"

int main(int argc, char** argv) {
  using namespace scribepod::cli;
  CLI::App app{"Scribepod: a real-time listening agent and podcast generator"};
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 success, 1 failure, 2 usage error, 3 invalid configuration,\n"
      "4 cannot listen on the configured address.\n"
      "Run `scribepod COMMAND --help` for a command's options.");
  std::map<CLI::App*, Runner> runners;
  const auto add = [&](Runner (*fn)(CLI::App&)) {
    const std::size_t before = app.get_subcommands({}).size();
    Runner r = fn(app);
    runners.emplace(app.get_subcommands({}).at(before), std::move(r));
  };
  add(add_serve_command);
  add(add_transcribe_command);
  add(add_think_command);
  add(add_models_command);
  add(add_config_command);
  add(add_version_command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) return run();
  }
  return kExitUsage;
}
