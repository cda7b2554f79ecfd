// The subcommands of the scribepod executable. Each registers its options on
// the CLI11 app and returns the process exit status when run.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace scribepod::cli {

using Runner = std::function<int()>;

// `serve`: run the HTTP server until SIGINT/SIGTERM.
Runner add_serve_command(CLI::App& app);
// `config`: print the effective configuration, secrets redacted.
Runner add_config_command(CLI::App& app);
// `transcribe`: speech files to text.
Runner add_transcribe_command(CLI::App& app);
// `think`: thoughts about a conversation given on the command line.
Runner add_think_command(CLI::App& app);
// `models`: list and pull models.
Runner add_models_command(CLI::App& app);
// `version`: print the version, commit and engines.
Runner add_version_command(CLI::App& app);

}  // namespace scribepod::cli
