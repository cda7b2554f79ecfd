#include "api/engines.h"

#include <fmt/format.h>

#include <filesystem>

#include "asr/pocketsphinx/pocketsphinx_recognizer.h"
#include "asr/remote/remote_recognizer.h"
#include "asr/whisper/whisper_recognizer.h"

namespace scribepod::api {

std::string default_whisper_model_path(const config::Config& config) {
  return (std::filesystem::path(config.data_dir) / "models" / "ggml-base.en.bin").string();
}

Result<std::shared_ptr<asr::Recognizer>> make_recognizer(const config::Config& config) {
  const auto& a = config.asr;
  auto wrap =
      [](Result<std::unique_ptr<asr::Recognizer>> r) -> Result<std::shared_ptr<asr::Recognizer>> {
    if (!r) return std::move(r).take_error();
    return std::shared_ptr<asr::Recognizer>(std::move(r).value());
  };
  if (a.engine == "pocketsphinx") {
    auto p = asr::pocketsphinx_default_params();
    p.model_dir = a.pocketsphinx_model_dir;
    p.decoders = a.concurrency;
    return wrap(asr::make_pocketsphinx_recognizer(p));
  }
  if (a.engine == "whisper") {
    auto p = asr::WhisperParams::default_params();
    p.model_path = a.whisper_model.empty() ? default_whisper_model_path(config) : a.whisper_model;
    p.threads = a.threads;
    p.language = a.language;
    p.max_concurrent = static_cast<int>(a.concurrency);
    return wrap(asr::make_whisper_recognizer(p));
  }
  if (a.engine == "remote") {
    auto p = asr::RemoteAsrParams::default_params();
    p.base_url = a.remote_url;
    p.api_key = a.remote_api_key;
    p.model = a.remote_model;
    p.language = a.language;
    p.timeouts.total_timeout = a.remote_timeout;
    p.retry.max_attempts = a.remote_attempts;
    p.max_audio_s = config.audio.max_duration_s;
    return wrap(asr::make_remote_recognizer(p));
  }
  return Error::invalid_config(
      fmt::format("unknown asr.engine \"{}\": expected pocketsphinx, whisper or remote", a.engine));
}

}  // namespace scribepod::api
