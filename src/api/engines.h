// Builds the engines the configuration names. This is the one place that
// knows every engine's parameter struct; the rest of the program sees only
// the interfaces (asr::Recognizer, ...).
#pragma once

#include <memory>

#include "asr/recognizer.h"
#include "config/config.h"
#include "core/result.h"
#include "llm/generator.h"
#include "mind/thoughts.h"
#include "store/history_store.h"

namespace scribepod::api {

// asr.engine = pocketsphinx | whisper | remote. Fails at start-up with a
// message naming the missing model path and the command that fetches it.
Result<std::shared_ptr<asr::Recognizer>> make_recognizer(const config::Config& config);

// The whisper model file used when asr.whisper_model is empty.
std::string default_whisper_model_path(const config::Config& config);

// mind.engine = heuristic | llama | openai. The LLM engines load the prompt
// templates from mind.prompts_dir (see resolve_prompts_dir) and the model from
// llm.*; a missing model names its path and `scribepod models pull`.
Result<std::shared_ptr<mind::ThoughtsEngine>> make_thoughts_engine(const config::Config& config);

// The language model of llm.* for mind.engine llama or openai (and later the
// podcast writer).
Result<std::shared_ptr<llm::Generator>> make_generator(const config::Config& config);

// The GGUF model used when llm.model is empty.
std::string default_llm_model_path(const config::Config& config);

// mind.prompts_dir, else ./prompts when it exists, else the installed ones.
std::string resolve_prompts_dir(const config::Config& config);

// store.backend = sqlite | postgres, migrations applied.
Result<std::shared_ptr<store::HistoryStore>> make_history_store(const config::Config& config);

}  // namespace scribepod::api
