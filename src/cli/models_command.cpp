#include "models/models_command.h"

#include <iostream>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "models/catalog.h"

namespace scribepod::cli {
namespace {

struct ModelsFlags {
  ConfigFlags config;
  bool json = false;
  std::string name;
  bool json_progress = false;
  bool skip_checksum = false;
};

Result<std::string> models_dir(const ConfigFlags& flags) {
  auto sources = make_sources(flags);
  if (!sources) return std::move(sources).take_error();
  auto cfg = config::load(*sources);
  if (!cfg) return std::move(cfg).take_error();
  return models::default_models_dir(cfg->data_dir);
}

}  // namespace

Runner add_models_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("models", "List and download speech and language models");
  cmd->require_subcommand(1);
  auto flags = std::make_shared<ModelsFlags>();
  auto* list = cmd->add_subcommand("list", "List the catalogue and what is already downloaded");
  add_config_flags(*list, flags->config);
  list->add_flag("--json", flags->json, "print JSON");
  auto* pull = cmd->add_subcommand("pull", "Download a model, resuming and verifying its checksum");
  add_config_flags(*pull, flags->config);
  pull->add_option("NAME", flags->name, "model name, e.g. base.en (see `models list`)")->required();
  pull->add_flag("--json-progress", flags->json_progress, "progress as JSON lines on stdout");
  pull->add_flag("--insecure-skip-checksum", flags->skip_checksum,
                 "allow a user catalogue entry without a pinned checksum");
  return [flags, list, pull] {
    auto dir = models_dir(flags->config);
    if (!dir) {
      std::cerr << "scribepod: invalid configuration: " << dir.error().message << "\n";
      return static_cast<int>(kExitBadConfig);
    }
    if (list->parsed()) return models::run_models_list(std::cout, std::cerr, *dir, flags->json);
    models::PullOptions opts;
    opts.json_progress = flags->json_progress;
    opts.allow_unpinned = flags->skip_checksum;
    (void)pull;
    return models::run_models_pull(flags->name, *dir, opts, std::cout, std::cerr);
  };
}

}  // namespace scribepod::cli
