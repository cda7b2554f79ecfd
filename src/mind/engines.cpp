#include "mind/engines.h"

#include <utility>

namespace scribepod::mind {

Result<std::unique_ptr<ThoughtsEngine>> make_heuristic_thoughts(HeuristicParams params) {
  return std::unique_ptr<ThoughtsEngine>(std::make_unique<HeuristicThoughts>(params));
}

Result<std::unique_ptr<ThoughtsEngine>> make_llm_thoughts(std::shared_ptr<llm::Generator> generator,
                                                          PromptTemplates prompts,
                                                          LlmThoughtsParams params) {
  if (!generator) return Error::invalid_config("the thoughts engine needs a language model");
  return std::unique_ptr<ThoughtsEngine>(
      std::make_unique<LlmThoughts>(std::move(generator), std::move(prompts), params));
}

}  // namespace scribepod::mind
