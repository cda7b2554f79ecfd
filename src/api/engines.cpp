#include "api/engines.h"

#include <fmt/format.h>

#include <filesystem>

#include "asr/pocketsphinx/pocketsphinx_recognizer.h"
#include "asr/remote/remote_recognizer.h"
#include "asr/whisper/whisper_recognizer.h"
#include "llm/llama/llama_generator.h"
#include "llm/openai/openai_generator.h"
#include "mind/engines.h"
#include "store/open_store.h"

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
    p.stream_fwdflat_max_ms = a.pocketsphinx_stream_fwdflat_ms;
    p.background_search = a.pocketsphinx_background_search;
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

std::string default_llm_model_path(const config::Config& config) {
  return (std::filesystem::path(config.data_dir) / "models" / "qwen2.5-0.5b-instruct-q4_k_m.gguf")
      .string();
}

std::string resolve_prompts_dir(const config::Config& config) {
  if (!config.mind.prompts_dir.empty()) return config.mind.prompts_dir;
  std::error_code ec;
  if (std::filesystem::is_directory("prompts", ec)) return "prompts";
  return SCRIBEPOD_SHARE_DIR "/prompts";
}

Result<std::shared_ptr<llm::Generator>> make_generator(const config::Config& config) {
  const auto& l = config.llm;
  if (config.mind.engine == "llama") {
    auto p = llm::default_llama_params();
    p.model_path = l.model.empty() ? default_llm_model_path(config) : l.model;
    p.n_ctx = static_cast<int>(l.context_size);
    p.n_threads = l.threads;
    p.max_sequences = static_cast<int>(l.concurrency);
    p.prompt_cache = l.prompt_cache;
    p.n_batch = l.batch;
    p.queue_timeout = l.queue_timeout;
    auto g = llm::LlamaGenerator::load(p);
    if (!g) return std::move(g).take_error();
    return std::shared_ptr<llm::Generator>(std::move(g).value());
  }
  if (config.mind.engine == "openai") {
    auto p = llm::OpenAiParams::default_params();
    p.base_url = l.remote_url;
    p.api_key = l.remote_api_key;
    p.model = l.remote_model;
    p.timeouts.total_timeout = l.remote_timeout;
    p.retry.max_attempts = l.remote_attempts;
    p.max_concurrency = static_cast<int>(l.concurrency);
    p.queue_timeout = l.queue_timeout;
    auto g = llm::make_openai_generator(p);
    if (!g) return std::move(g).take_error();
    return std::shared_ptr<llm::Generator>(std::move(g).value());
  }
  return Error::invalid_config(
      fmt::format("mind.engine \"{}\" uses no language model", config.mind.engine));
}

Result<std::shared_ptr<mind::ThoughtsEngine>> make_thoughts_engine(const config::Config& config) {
  auto wrap = [](Result<std::unique_ptr<mind::ThoughtsEngine>> r)
      -> Result<std::shared_ptr<mind::ThoughtsEngine>> {
    if (!r) return std::move(r).take_error();
    return std::shared_ptr<mind::ThoughtsEngine>(std::move(r).value());
  };
  if (config.mind.engine == "heuristic") return wrap(mind::make_heuristic_thoughts());
  auto generator = make_generator(config);
  if (!generator) return std::move(generator).take_error();
  auto pp = mind::default_prompt_params();
  pp.max_history_lines = config.mind.max_history_lines;
  auto prompts = mind::PromptTemplates::load(resolve_prompts_dir(config), pp);
  if (!prompts) return std::move(prompts).take_error();
  auto tp = mind::default_llm_thoughts_params();
  tp.max_tokens = config.llm.max_tokens;
  tp.temperature = static_cast<float>(config.llm.temperature);
  tp.seed = config.llm.seed;
  tp.parallel_fields = config.mind.parallel_fields;
  return wrap(mind::make_llm_thoughts(*generator, std::move(*prompts), tp));
}

Result<std::shared_ptr<store::HistoryStore>> make_history_store(const config::Config& config) {
  auto p = store::default_store_params();
  p.backend = config.store.backend;
  p.sqlite_path = config.store.sqlite_path.empty()
                      ? (std::filesystem::path(config.data_dir) / "scribepod.db").string()
                      : config.store.sqlite_path;
  p.postgres_url = config.store.postgres_url;
  auto s = store::open_store(p);
  if (!s) return std::move(s).take_error();
  return std::shared_ptr<store::HistoryStore>(std::move(s).value());
}

}  // namespace scribepod::api
