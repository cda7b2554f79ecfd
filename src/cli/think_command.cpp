#include <fmt/format.h>

#include <fstream>
#include <iostream>

#include "api/conversation_routes.h"
#include "api/engines.h"
#include "cli/commands.h"
#include "cli/config_flags.h"
#include "telemetry/log.h"

namespace scribepod::cli {
namespace {

struct ThinkFlags {
  ConfigFlags config;
  std::vector<std::string> utterances;
  std::string file;
  std::string engine;
  bool json = false;
};

// The original's conversation lines: "person: what they said". Lines that
// already name a speaker ("someone: ...") are kept as they are.
std::string as_line(std::string_view text) {
  const auto colon = text.find(':');
  const bool has_speaker = colon != std::string_view::npos && colon > 0 && colon < 24 &&
                           text.substr(0, colon).find(' ') == std::string_view::npos;
  return has_speaker ? std::string(text) : "person: " + std::string(text);
}

Result<std::vector<std::string>> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::io(fmt::format("cannot open {}", path));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    lines.push_back(as_line(line));
  }
  return lines;
}

int run(ThinkFlags& f) {
  if (!f.engine.empty()) f.config.sets.push_back("mind.engine=" + f.engine);
  auto cfg = load_config_or_report(f.config);
  if (!cfg) return kExitBadConfig;
  std::vector<std::string> lines;
  if (!f.file.empty()) {
    auto from_file = read_lines(f.file);
    if (!from_file) {
      std::cerr << "scribepod: " << from_file.error().message << "\n";
      return kExitFailure;
    }
    lines = std::move(*from_file);
  }
  for (const std::string& u : f.utterances) lines.push_back(as_line(u));
  if (lines.empty()) {
    std::cerr << "scribepod: nothing to think about: give utterances or --file\n";
    return kExitUsage;
  }

  quiet_logs_for_cli();
  auto engine = api::make_thoughts_engine(*cfg);
  if (!engine) {
    std::cerr << "scribepod: " << engine.error().message << "\n";
    log::shutdown();
    return kExitBadConfig;
  }
  mind::ThinkRequest request;
  const std::size_t keep = cfg->mind.max_history_lines;
  if (lines.size() > keep) lines.erase(lines.begin(), lines.end() - static_cast<long>(keep));
  request.conversation = std::move(lines);
  auto thoughts = (*engine)->think(request);
  log::shutdown();
  if (!thoughts) {
    std::cerr << "scribepod: " << thoughts.error().message << "\n";
    return kExitFailure;
  }
  if (f.json) {
    std::cout << api::thoughts_json(*thoughts) << "\n";
    return kExitOk;
  }
  const auto& t = *thoughts;
  std::cout << fmt::format(
      "intent:      {}\nperson is:   {}\nextra state: {}\nthoughts:    {}\nresponse:    {}\n"
      "({} engine, {:.0f} ms)\n",
      t.intent, t.person_is, t.extra_state, t.thoughts, t.response, t.engine, t.latency_ms);
  return kExitOk;
}

}  // namespace

Runner add_think_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("think",
                         "What the listening agent makes of a conversation: intent, person_is, "
                         "extra_state, thoughts and a response");
  auto f = std::make_shared<ThinkFlags>();
  add_config_flags(*cmd, f->config);
  cmd->add_option("UTTERANCE", f->utterances,
                  "utterances, oldest first (\"person: \" is prepended unless a speaker is named)");
  cmd->add_option("--file", f->file, "a conversation, one utterance per line")
      ->check(CLI::ExistingFile);
  cmd->add_option("--engine", f->engine, "heuristic | llama | openai (mind.engine)");
  cmd->add_flag("--json", f->json, "print one JSON object");
  cmd->footer(
      "Examples:\n  scribepod think \"hi there\" \"can you help me plan a trip to Lisbon?\"\n"
      "  scribepod think --file conversation.txt --json\n"
      "Exit status: 0 ok, 1 failure, 2 usage, 3 bad configuration or engine.");
  return [f] { return run(*f); };
}

}  // namespace scribepod::cli
