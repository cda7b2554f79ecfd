#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "api/engines.h"
#include "api/transcript_format.h"
#include "asr/transcriber.h"
#include "cli/commands.h"
#include "cli/config_flags.h"
#include "telemetry/log.h"

namespace scribepod::cli {
namespace {

struct TranscribeFlags {
  ConfigFlags config;
  std::vector<std::string> files;
  std::string format = "text";
  std::string engine;
  std::string language;
  bool word_timestamps = false;
};

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io(fmt::format("cannot open {}", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  return std::move(buf).str();
}

int run(TranscribeFlags& f) {
  if (!f.engine.empty()) f.config.sets.push_back("asr.engine=" + f.engine);
  if (!f.language.empty()) f.config.sets.push_back("asr.language=" + f.language);
  auto cfg = load_config_or_report(f.config);
  if (!cfg) return kExitBadConfig;
  const auto format = api::parse_transcript_format(f.format);
  if (!format) {
    std::cerr << "scribepod: --format must be text, json, verbose_json, srt or vtt\n";
    return kExitUsage;
  }
  // Engine chatter stays out of the transcript on stdout.
  quiet_logs_for_cli();
  auto recognizer = api::make_recognizer(*cfg);
  if (!recognizer) {
    std::cerr << "scribepod: " << recognizer.error().message << "\n";
    return kExitBadConfig;
  }
  asr::TranscriberOptions topts;
  topts.limits.max_duration_s = cfg->audio.max_duration_s;
  topts.vad_gate = cfg->asr.vad_gate;
  asr::Transcriber transcriber(*recognizer, topts);
  asr::TranscribeOptions opts;
  opts.language = cfg->asr.language;
  opts.word_timestamps = f.word_timestamps;

  const bool tty = isatty(STDERR_FILENO) != 0;
  int status = kExitOk;
  for (const std::string& path : f.files) {
    auto bytes = read_file(path);
    if (!bytes) {
      std::cerr << "scribepod: " << bytes.error().message << "\n";
      status = kExitFailure;
      continue;
    }
    auto pcm = audio::decode_audio(*bytes, {}, topts.limits);
    if (!pcm) {
      std::cerr << "scribepod: " << path << ": " << pcm.error().message << "\n";
      status = kExitFailure;
      continue;
    }
    auto progress = [&](double done, double total) {
      if (!tty || total < 30) return;
      std::cerr << fmt::format("\r{}: {:3.0f}% ({:.0f} of {:.0f} s)", path, 100 * done / total,
                               done, total)
                << (done >= total ? "\n" : "") << std::flush;
    };
    auto t = transcriber.transcribe_pcm(*pcm, opts, progress);
    if (!t) {
      std::cerr << "scribepod: " << path << ": " << t.error().message << "\n";
      status = kExitFailure;
      continue;
    }
    if (f.files.size() > 1 && *format == api::TranscriptFormat::kText)
      std::cout << "# " << path << "\n";
    std::cout << api::render_transcript(*t, *format);
    if (*format == api::TranscriptFormat::kJson || *format == api::TranscriptFormat::kVerboseJson) {
      std::cout << "\n";
    }
  }
  log::shutdown();
  return status;
}

}  // namespace

Runner add_transcribe_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("transcribe", "Transcribe audio files (WAV, Ogg/Opus, WebM, MP3, FLAC)");
  auto f = std::make_shared<TranscribeFlags>();
  add_config_flags(*cmd, f->config);
  cmd->add_option("FILE", f->files, "audio files")->required()->check(CLI::ExistingFile);
  cmd->add_option("-f,--format", f->format, "text | json | verbose_json | srt | vtt")
      ->capture_default_str();
  cmd->add_option("--engine", f->engine, "pocketsphinx | whisper | remote (asr.engine)");
  cmd->add_option("--language", f->language, "language code, e.g. en (asr.language)");
  cmd->add_flag("--word-timestamps", f->word_timestamps, "include word timings (verbose_json)");
  return [f] { return run(*f); };
}

}  // namespace scribepod::cli
