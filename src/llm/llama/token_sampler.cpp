// Grammar-first sampling with forced-token detection. See the header.
#include "llm/llama/token_sampler.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "llm/json_schema.h"

namespace scribepod::llm {
namespace {

// More allowed tokens than this is a real choice; checking their texts
// would cost more than the decode it could save.
constexpr std::size_t kMaxForcedCandidates = 64;

// How the grammar sampler marks a token it does not allow.
bool rejected(const llama_token_data& t) { return std::isinf(t.logit) && t.logit < 0; }

}  // namespace

Result<SamplerPtr> GrammarCache::grammar_for(const std::string& json_schema) {
  std::lock_guard lock(mu_);
  auto it = parsed_.find(json_schema);
  if (it == parsed_.end()) {
    auto schema = JsonSchema::parse(json_schema);
    if (!schema) {
      return schema.error();
    }
    const std::string gbnf = schema->to_gbnf();
    SamplerPtr grammar(llama_sampler_init_grammar(vocab_, gbnf.c_str(), "root"));
    if (!grammar) {
      return Error::internal("llama.cpp rejected the grammar derived from the JSON schema");
    }
    if (parsed_.size() >= kMaxEntries) {
      parsed_.clear();
    }
    it = parsed_.emplace(json_schema, std::move(grammar)).first;
  }
  return SamplerPtr(llama_sampler_clone(it->second.get()));
}

Result<TokenSampler> TokenSampler::make(const llama_vocab* vocab, const GenerateRequest& request,
                                        uint32_t seed, GrammarCache& grammars) {
  SamplerPtr grammar;
  if (!request.json_schema.empty()) {
    auto g = grammars.grammar_for(request.json_schema);
    if (!g) {
      return g.error();
    }
    grammar = std::move(g).value();
  }
  llama_sampler_chain_params cp = llama_sampler_chain_default_params();
  cp.no_perf = true;
  SamplerPtr chain(llama_sampler_chain_init(cp));
  if (request.temperature <= 0.0F) {
    llama_sampler_chain_add(chain.get(), llama_sampler_init_greedy());
  } else {
    uint32_t s = request.seed != 0 ? request.seed : seed;
    if (s == 0) {
      s = std::random_device{}();
    }
    llama_sampler_chain_add(chain.get(), llama_sampler_init_top_k(40));
    llama_sampler_chain_add(chain.get(), llama_sampler_init_temp(request.temperature));
    llama_sampler_chain_add(chain.get(), llama_sampler_init_dist(s));
  }
  return TokenSampler(vocab, std::move(grammar), std::move(chain));
}

TokenSampler::TokenSampler(const llama_vocab* vocab, SamplerPtr grammar, SamplerPtr chain)
    : vocab_(vocab),
      grammar_(std::move(grammar)),
      chain_(std::move(chain)),
      candidates_(static_cast<std::size_t>(llama_vocab_n_tokens(vocab))) {}

const std::string& TokenSampler::piece(llama_token token) {
  auto it = pieces_.find(token);
  if (it != pieces_.end()) {
    return it->second;
  }
  char buf[256];
  const int32_t n = llama_token_to_piece(vocab_, token, buf, sizeof buf, 0, /*special=*/false);
  std::string text = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  return pieces_.emplace(token, std::move(text)).first->second;
}

std::optional<llama_token> TokenSampler::grammar_choice() {
  array_ = {candidates_.data(), candidates_.size(), -1, false};
  llama_sampler_apply(grammar_.get(), &array_);
  std::vector<llama_token> allowed;
  for (std::size_t i = 0; i < array_.size; ++i) {
    if (rejected(array_.data[i])) continue;
    if (allowed.size() == kMaxForcedCandidates) return std::nullopt;
    allowed.push_back(array_.data[i].id);
  }
  if (allowed.empty()) {
    return std::nullopt;  // a dead end: let the chain pick, as llama.cpp would
  }
  if (allowed.size() == 1 || std::all_of(allowed.begin(), allowed.end(), [&](llama_token t) {
        return llama_vocab_is_eog(vocab_, t);
      })) {
    return allowed.front();  // a single spelling, or the end (any end token)
  }
  // Forced when the allowed texts are one chain of prefixes: any of them
  // starts the same text, and the longest gets furthest in one token.
  llama_token longest = LLAMA_TOKEN_NULL;
  std::size_t longest_size = 0;
  for (llama_token t : allowed) {
    if (llama_vocab_is_eog(vocab_, t) || piece(t).empty()) return std::nullopt;
    if (piece(t).size() > longest_size) {
      longest = t;
      longest_size = piece(t).size();
    }
  }
  const std::string& full = piece(longest);
  for (llama_token t : allowed) {
    if (full.compare(0, piece(t).size(), piece(t)) != 0) return std::nullopt;
  }
  return longest;
}

std::optional<llama_token> TokenSampler::forced() {
  if (!grammar_) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < candidates_.size(); ++i) {
    candidates_[i] = {static_cast<llama_token>(i), 0.0F, 0.0F};
  }
  return grammar_choice();
}

bool TokenSampler::grammar_allows(llama_token token) {
  llama_token_data one{token, 1.0F, 0.0F};
  llama_token_data_array single{&one, 1, -1, false};
  llama_sampler_apply(grammar_.get(), &single);
  return !rejected(one);
}

void TokenSampler::fill(const float* logits) {
  for (std::size_t i = 0; i < candidates_.size(); ++i) {
    candidates_[i] = {static_cast<llama_token>(i), logits[i], 0.0F};
  }
  array_ = {candidates_.data(), candidates_.size(), -1, false};
}

llama_token TokenSampler::sample(const float* logits) {
  // The chain's own pick first: where it is valid (most tokens inside a
  // JSON string) the grammar judges one token, not the whole vocabulary.
  fill(logits);
  llama_sampler_apply(chain_.get(), &array_);
  const llama_token pick = array_.data[array_.selected].id;
  if (!grammar_ || grammar_allows(pick)) {
    return pick;
  }
  // The pick breaks the grammar: choose again among what the grammar allows.
  fill(logits);
  if (auto only = grammar_choice()) {
    return *only;
  }
  // array_ holds the grammar's verdict (disallowed tokens at -inf).
  llama_sampler_apply(chain_.get(), &array_);
  return array_.data[array_.selected].id;
}

void TokenSampler::accept(llama_token token) {
  if (grammar_) {
    llama_sampler_accept(grammar_.get(), token);
  }
  llama_sampler_accept(chain_.get(), token);
}

}  // namespace scribepod::llm
