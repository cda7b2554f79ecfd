// LlmThoughts: thoughts from a language model (any llm::Generator).
//
// One generation yields all five fields: the prompt is rendered from the
// PromptTemplates and the output is constrained by thoughts_json_schema().
// By default the engine may write the fields side by side
// (LlmThoughtsParams::parallel_fields): the llama engine decodes one
// sequence per field in one batch, about three times faster than one field
// after another on a CPU.
// Because an engine may ignore a schema silently, the output is validated by
// parse_thoughts(); when it is invalid the engine makes ONE repair attempt
// (the invalid output and the validation error go back to the model in the
// same chat, asking for corrected JSON) and then gives up with
// kUpstreamFailed. Garbage is never returned as thoughts.
//
// While the model writes, the characters of the `response` field are passed
// to ThinkRequest::on_response (see JsonFieldStream). Streamed text is
// provisional: the final Thoughts::response is the validated value, and a
// repair attempt streams only if the first attempt streamed nothing. If
// on_response returns false the generation is cancelled and think() fails
// with kUnavailable without a repair.
//
// Token counts and latency cover both attempts; engine is the generator's
// name(). Thread-safe when the Generator is (as llm/generator.h promises).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "llm/generator.h"
#include "mind/prompt_templates.h"
#include "mind/thoughts.h"

namespace scribepod::mind {

struct LlmThoughtsParams {
  int max_tokens = 400;      // mind.max_tokens: room for five fields
  float temperature = 0.7F;  // mind.temperature: free associations want some
  std::uint32_t seed = 0;    // llm.seed: 0 = the engine's default
  // mind.parallel_fields: ask the engine to write the five fields side by
  // side (llm::GenerateRequest::parallel_fields; llama only). Faster, but
  // each field then sees the conversation and not the other fields.
  bool parallel_fields = true;
};
LlmThoughtsParams default_llm_thoughts_params();

class LlmThoughts final : public ThoughtsEngine {
 public:
  LlmThoughts(std::shared_ptr<llm::Generator> generator, PromptTemplates prompts,
              LlmThoughtsParams params = default_llm_thoughts_params());

  std::string name() const override;
  std::string describe() const override;
  bool ready(std::string& detail) const override;
  Result<Thoughts> think(const ThinkRequest& request) override;

 private:
  std::shared_ptr<llm::Generator> generator_;
  PromptTemplates prompts_;
  LlmThoughtsParams params_;
};

}  // namespace scribepod::mind
