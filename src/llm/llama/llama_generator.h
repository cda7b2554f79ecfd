// LlamaGenerator: the llm::Generator for GGUF models run in-process by
// llama.cpp.
//
// One model is loaded and shared; requests run on a bounded pool of
// `max_sequences` contexts (each with its own KV cache of `n_ctx` tokens).
// generate() renders the chat with the model's own
// template (or ChatML when the model has none the built-in renderer knows;
// encoder-decoder models without a template get the messages' contents
// joined by newlines), takes a free context, waiting up to `queue_timeout`
// (then fails with kUnavailable), and samples until an end-of-generation
// token, `max_tokens`, a full context, or the caller cancels via on_text.
//
// Prompt cache: a context keeps the keys and values of its last prompt and
// output. The pool hands a request the idle context that shares the longest
// token prefix with its prompt, and only the rest is evaluated; a
// conversation that grows by one utterance re-evaluates about one utterance.
// Generation::cached_prompt_tokens says how many were reused.
//
// With a json_schema the sampler chain starts with a grammar derived from it
// (llm/json_schema.h); an unsupported schema fails with kBadRequest before
// any work. With parallel_fields and an object-of-strings schema, each
// property gets its own sequence in the context (sharing the prompt's KV
// cells) and its own string grammar, and one llama_decode per step advances
// them all (see GenerateRequest::parallel_fields). Encoder-decoder models
// (T5, Flan-T5) run llama_encode() over the prompt, then decode from the
// model's decoder start token; they always write one sequence.
//
// Thread-safe: generate() may be called from any number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "llm/generator.h"

namespace scribepod::llm {

struct LlamaParams {
  std::string model_path;  // a .gguf file
  int n_ctx = 4096;        // tokens per context (prompt + output); 0 = the model's own
  int n_threads = 0;       // threads per generation; 0 = hardware threads / max_sequences
  int n_batch = 512;       // prompt tokens per llama_decode call
  int max_sequences = 2;   // contexts in the pool = generations at once
  std::chrono::milliseconds queue_timeout{30000};  // wait for a free context
  uint32_t seed = 0;  // used when a request has seed 0; 0 here = random per request
  // Keep each context's KV cache between generations and reuse the longest
  // prefix the next prompt shares with it (the system prompt, and the
  // conversation so far when the same conversation comes back).
  bool prompt_cache = true;
};

LlamaParams default_llama_params();

class LlamaGenerator final : public Generator {
 public:
  // Loads the model and creates the contexts. kInvalidConfig naming the path
  // (and `scribepod models pull`) when the file is missing, unreadable or not
  // a GGUF model llama.cpp can load; kInvalidConfig for bad parameters.
  static Result<std::unique_ptr<LlamaGenerator>> load(const LlamaParams& params);

  ~LlamaGenerator() override;
  LlamaGenerator(const LlamaGenerator&) = delete;
  LlamaGenerator& operator=(const LlamaGenerator&) = delete;

  std::string name() const override { return "llama"; }
  std::string describe() const override;
  Result<Generation> generate(const GenerateRequest& request) override;

 private:
  struct Impl;
  explicit LlamaGenerator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace scribepod::llm
