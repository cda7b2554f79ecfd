// Factories for the thoughts engines, for the code that wires configuration
// (mind.engine = heuristic | llama | openai) to an engine. The LLM engines
// share one implementation over any llm::Generator; the caller builds the
// Generator from its own configuration and loads the prompt templates from
// mind.prompts_dir.
#pragma once

#include <memory>

#include "core/result.h"
#include "llm/generator.h"
#include "mind/heuristic/heuristic_thoughts.h"
#include "mind/llm_thoughts.h"
#include "mind/prompt_templates.h"
#include "mind/thoughts.h"

namespace scribepod::mind {

Result<std::unique_ptr<ThoughtsEngine>> make_heuristic_thoughts(
    HeuristicParams params = default_heuristic_params());

// Fails with kInvalidConfig when `generator` is null.
Result<std::unique_ptr<ThoughtsEngine>> make_llm_thoughts(
    std::shared_ptr<llm::Generator> generator, PromptTemplates prompts,
    LlmThoughtsParams params = default_llm_thoughts_params());

}  // namespace scribepod::mind
