#include <iostream>

#include "api/app.h"
#include "cli/commands.h"
#include "cli/config_flags.h"
#include "core/version.h"
#include "http/server.h"
#include "telemetry/log.h"

namespace scribepod::cli {
namespace {

int serve(const ConfigFlags& flags) {
  auto sources = make_sources(flags);
  if (!sources) {
    std::cerr << "scribepod: " << sources.error().message << "\n";
    return kExitBadConfig;
  }
  std::vector<std::string> warnings;
  auto loaded = config::load(*sources, warnings);
  if (!loaded) {
    std::cerr << "scribepod: invalid configuration: " << loaded.error().message << "\n";
    return kExitBadConfig;
  }
  const config::Config& cfg = *loaded;
  auto level = log::parse_level(cfg.log.level);
  if (!level) {
    std::cerr << "scribepod: " << level.error().message << "\n";
    return kExitBadConfig;
  }
  if (auto st = log::init({.level = *level,
                           .json = cfg.log.format == "json",
                           .to_stdout = true,
                           .dir = cfg.log.dir,
                           .max_file_bytes = cfg.log.max_file_bytes,
                           .max_files = cfg.log.max_files});
      !st) {
    std::cerr << "scribepod: " << st.error().message << "\n";
    return kExitBadConfig;
  }
  for (const std::string& w : warnings) log::warn("configuration", {{"warning", w}});
  if (auto st = api::check_exposure(cfg); !st) {
    log::error("refusing to start", {{"reason", st.error().message}});
    log::shutdown();
    std::cerr << "scribepod: " << st.error().message << "\n";
    return kExitBadConfig;
  }

  auto created = api::App::create(cfg);
  if (!created) {
    log::error("cannot start", {{"reason", created.error().message}});
    log::shutdown();
    std::cerr << "scribepod: " << created.error().message << "\n";
    return kExitBadConfig;
  }
  api::App& app = **created;
  http::Server server(app.server_options(), app.router(), app.chain());
  app.set_connection_counter([&server] { return server.active_connections(); });
  if (auto st = server.listen(); !st) {
    log::error("cannot listen", {{"reason", st.error().message}});
    log::shutdown();
    std::cerr << "scribepod: " << st.error().message << "\n";
    return kExitCannotListen;
  }
  app.readiness().set("http", true, "listening");
  log::info("scribepod starting",
            {{"version", kVersion},
             {"commit", kGitCommit},
             {"environment", cfg.server.environment},
             {"auth", cfg.auth.api_keys.empty() ? "off" : "api_keys"},
             {"asr", cfg.asr.engine},
             {"cors_origins", static_cast<unsigned long>(cfg.cors.allowed_origins.size())}});
  server.run();
  log::shutdown();
  return kExitOk;
}

}  // namespace

Runner add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Run the HTTP server (default port 4200)");
  auto flags = std::make_shared<ConfigFlags>();
  add_config_flags(*cmd, *flags);
  return [flags] { return serve(*flags); };
}

}  // namespace scribepod::cli
