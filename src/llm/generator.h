// Generator: text in, text out from a language model, one interface for
// every engine (llama.cpp in-process, any OpenAI-compatible
// /v1/chat/completions server). The mind (thoughts) and the podcast writer
// both talk to a Generator; nothing outside llm/ includes an engine header.
//
// A request is a chat: system/user/assistant messages, rendered by the
// engine with the model's own chat template. When `json_schema` is set the
// output must be one JSON value matching it: llama.cpp constrains sampling
// with a grammar derived from the schema, remote engines send it as the
// `response_format`. Either way the caller still validates the result (an
// engine may ignore the schema silently), so a Generator never promises
// validity, only effort.
//
// Streaming: when `on_text` is set the engine calls it with each new piece
// of output as it is produced (in order, on the generating thread); returning
// false cancels the generation, which then ends with what was produced.
//
// Implementations are thread-safe: many conversations call generate() at
// once; an engine bounds its own concurrency (contexts, sequences in a
// batch, remote connections) and waits, or fails with kUnavailable when it
// cannot take more work within `queue_timeout`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scribepod::llm {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct GenerateRequest {
  std::vector<ChatMessage> messages;
  // A JSON Schema (as JSON text) the output must match; "" = free text.
  std::string json_schema;
  int max_tokens = 256;
  float temperature = 0.2F;
  uint32_t seed = 0;  // 0 = engine default (random); fixed seeds reproduce
  // Parallel fields: when json_schema is an object of string properties
  // only (no additional ones, 2 to 8 of them), an engine that can decode
  // several sequences at once (llama) may write each property in its own
  // sequence, all in one batch per step. Each value then sees the prompt and
  // its own key, not the other values; the output is still one object with
  // the properties in schema order, and max_tokens bounds all of them
  // together. Other schemas, and other engines, generate as usual.
  bool parallel_fields = false;
  // Streaming hook, see above. May be empty.
  std::function<bool(std::string_view piece)> on_text;
};

struct Generation {
  std::string text;       // the whole output
  std::string engine;     // "llama", "openai"
  std::string model;      // model file name or remote model id
  int prompt_tokens = 0;  // as counted by the engine (0 when unknown)
  int completion_tokens = 0;
  int cached_prompt_tokens = 0;  // prompt tokens served from a prompt cache
  double latency_ms = 0;         // wall time of this call, queueing included
  bool truncated = false;        // stopped by max_tokens or cancellation
};

class Generator {
 public:
  virtual ~Generator() = default;
  virtual std::string name() const = 0;      // "llama", "openai"
  virtual std::string describe() const = 0;  // for /health and /ready
  // Whether the backend can serve now (a remote circuit may be open); the
  // detail says why not. In-process engines are always ready once loaded.
  virtual bool ready(std::string& detail) const {
    detail = describe();
    return true;
  }
  virtual Result<Generation> generate(const GenerateRequest& request) = 0;
};

}  // namespace scribepod::llm
