// TokenSampler: picks each next token of one llama.cpp generation, under an
// optional grammar, and says when the grammar leaves no choice.
//
// The chain (greedy, or top-k + temperature + a seeded draw) picks first,
// and the grammar (from a JSON schema) judges that one token; only when it
// rejects the pick is the grammar applied to the whole vocabulary and the
// chain run again among what it allows, as llama.cpp's common sampler does.
// Greedy picks are the same as grammar-first; judging one token instead of
// the whole vocabulary at each step is what saves the time.
//
// When every token the grammar allows is a prefix of the longest one (the
// keys and punctuation of a JSON object with fixed keys), the text is
// forced: forced() returns that longest token without logits, so
// LlamaGenerator can append forced tokens without a decode per token and
// evaluate them in one batch ("jump-forward" decoding). The choice is the
// grammar's, so the output is valid exactly as with plain sampling.
//
// GrammarCache keeps one parsed grammar per schema text: llama.cpp expands
// bounded repetitions (maxLength 800) into hundreds of rules, which takes
// tens of milliseconds to parse; a copy of the parsed grammar takes well
// under one. Thread-safe; a TokenSampler is used by one generation.
#pragma once

#include <llama.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "llm/generator.h"

namespace scribepod::llm {

struct SamplerFree {
  void operator()(llama_sampler* s) const { llama_sampler_free(s); }
};
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerFree>;

class GrammarCache {
 public:
  explicit GrammarCache(const llama_vocab* vocab) : vocab_(vocab) {}
  // A fresh grammar sampler for the JSON schema; kBadRequest when the
  // schema is outside the supported subset.
  Result<SamplerPtr> grammar_for(const std::string& json_schema);

 private:
  static constexpr std::size_t kMaxEntries = 16;
  const llama_vocab* vocab_;
  std::mutex mu_;
  std::map<std::string, SamplerPtr> parsed_;
};

class TokenSampler {
 public:
  // `seed` is used when the request has none (0 = random).
  static Result<TokenSampler> make(const llama_vocab* vocab, const GenerateRequest& request,
                                   uint32_t seed, GrammarCache& grammars);

  // The grammar's only choice in the current state, judged without logits;
  // nullopt when there is no grammar or it allows a real choice.
  std::optional<llama_token> forced();
  // The next token, from the logits of the last evaluated position.
  llama_token sample(const float* logits);
  // Advances the grammar and the chain past `token` (once per token).
  void accept(llama_token token);

 private:
  TokenSampler(const llama_vocab* vocab, SamplerPtr grammar, SamplerPtr chain);
  // Applies the grammar to candidates_ (filled by the caller) and returns
  // its only choice, if it has one.
  std::optional<llama_token> grammar_choice();
  // Whether the grammar accepts `token` in its current state.
  bool grammar_allows(llama_token token);
  // Loads `logits` into candidates_ and array_.
  void fill(const float* logits);
  const std::string& piece(llama_token token);

  const llama_vocab* vocab_;
  SamplerPtr grammar_;  // null without a schema
  SamplerPtr chain_;
  std::vector<llama_token_data> candidates_;
  llama_token_data_array array_{};
  std::map<llama_token, std::string> pieces_;  // of tokens seen in forced spans
};

}  // namespace scribepod::llm
