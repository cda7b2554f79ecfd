// The wire format of OpenAI's /v1/chat/completions, kept apart from the
// transport so that both directions can be tested (and fuzzed) without a
// server.
//
// build_chat_completion_body() writes the request JSON: model, messages,
// max_tokens, temperature, "stream": false, seed only when the request fixes
// one (0 means "engine default"), and, when the request carries a JSON
// schema, OpenAI's structured-output format:
//   "response_format": {"type": "json_schema",
//                       "json_schema": {"name": "output", "schema": <schema>, "strict": true}}
// llama-server, vLLM and Ollama accept the same shape. It fails (kInternal)
// when the schema is not JSON: schemas come from our own code and templates,
// so a broken one is our bug, not the caller's.
//
// parse_chat_completion() reads a reply: choices[0].message.content,
// choices[0].finish_reason, model and usage.{prompt,completion}_tokens
// (absent usage reads as 0). Anything else (not JSON, an "error" object in a
// 200, no choices, content that is not a string, a refusal) fails with
// kUpstreamFailed and a message that says which. It never looks inside the
// content: checking it against the schema is the caller's job.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "llm/generator.h"

namespace scribepod::llm {

inline constexpr std::string_view kChatCompletionsPath = "/v1/chat/completions";

// The name the schema travels under in response_format.json_schema.name.
inline constexpr std::string_view kSchemaName = "output";

Result<std::string> build_chat_completion_body(std::string_view model,
                                               const GenerateRequest& request);

struct ChatCompletion {
  std::string content;
  std::string model;          // as the server names it; "" when absent
  std::string finish_reason;  // "stop", "length", ...; "" when absent
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

Result<ChatCompletion> parse_chat_completion(std::string_view body);

}  // namespace scribepod::llm
