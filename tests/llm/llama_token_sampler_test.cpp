// TokenSampler on a real llama.cpp vocabulary (a tiny random-weight model
// generated at test time): the grammar's forced text is found without
// logits, and a free choice is never taken for a forced one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "llm/llama/token_sampler.h"

namespace scribepod::llm {
namespace {

class TokenSamplerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() /
           ("scribepod-sampler-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const auto path = (dir_ / "llama.gguf").string();
    const std::string cmd =
        std::string(SCRIBEPOD_TINY_GGUF_TOOL) + " --arch llama --out '" + path + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    model_ = llama_model_load_from_file(path.c_str(), mp);
    ASSERT_NE(model_, nullptr);
  }
  static void TearDownTestSuite() {
    llama_model_free(model_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  static const llama_vocab* vocab() { return llama_model_get_vocab(model_); }
  static std::string text(llama_token t) {
    char buf[256];
    const int32_t n = llama_token_to_piece(vocab(), t, buf, sizeof buf, 0, false);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
  // Accepts forced tokens while there are any; returns their text.
  static std::string take_forced(TokenSampler& s) {
    std::string out;
    while (auto t = s.forced()) {
      if (llama_vocab_is_eog(vocab(), *t)) {
        out += "<eog>";
        break;
      }
      s.accept(*t);
      out += text(*t);
    }
    return out;
  }
  // The token whose text is exactly this character.
  static llama_token one_char(char c) {
    for (llama_token t = 0; t < llama_vocab_n_tokens(vocab()); ++t) {
      if (text(t) == std::string(1, c)) return t;
    }
    ADD_FAILURE() << "no token for '" << c << "'";
    return 0;
  }

  static inline std::filesystem::path dir_;
  static inline llama_model* model_ = nullptr;
};

constexpr const char* kSchema = R"({"type":"object","properties":{
  "intent":{"type":"string","maxLength":3},"response":{"type":"string"}},
  "required":["intent","response"],"additionalProperties":false})";

TEST_F(TokenSamplerTest, FindsTheForcedJsonScaffolding) {
  GrammarCache grammars(vocab());
  GenerateRequest r;
  r.json_schema = kSchema;
  r.temperature = 0;
  auto s = TokenSampler::make(vocab(), r, 1, grammars);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(take_forced(*s), R"({"intent":")");
  // Inside a string value the model chooses.
  EXPECT_FALSE(s->forced().has_value());
  for (char c : std::string("abc")) s->accept(one_char(c));
  // maxLength 3 reached: only the closing quote, then the next key.
  EXPECT_EQ(take_forced(*s), R"(","response":")");
  s->accept(one_char('x'));
  EXPECT_FALSE(s->forced().has_value());  // more text or the closing quote
  s->accept(one_char('"'));
  EXPECT_EQ(take_forced(*s), "}<eog>");
}

TEST_F(TokenSamplerTest, WithoutAGrammarNothingIsForced) {
  GrammarCache grammars(vocab());
  GenerateRequest r;
  auto s = TokenSampler::make(vocab(), r, 1, grammars);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->forced().has_value());
}

TEST_F(TokenSamplerTest, SampleNeverLeavesTheGrammar) {
  GrammarCache grammars(vocab());
  GenerateRequest r;
  r.json_schema = kSchema;
  r.temperature = 1.0F;
  r.seed = 7;
  auto s = TokenSampler::make(vocab(), r, 1, grammars);
  ASSERT_TRUE(s.ok());
  // Logits that favour a token the grammar forbids at the start.
  std::vector<float> logits(static_cast<std::size_t>(llama_vocab_n_tokens(vocab())), 0.0F);
  logits[static_cast<std::size_t>(one_char('x'))] = 50.0F;
  const llama_token first = s->sample(logits.data());
  EXPECT_EQ(text(first).front(), '{');
}

TEST_F(TokenSamplerTest, GreedyPickIsTheBestTokenTheGrammarAllows) {
  // sample() lets the chain pick first and asks the grammar about that one
  // token; greedy must still pick exactly what the grammar-first order
  // picks: the highest logit among the tokens the grammar allows.
  GrammarCache grammars(vocab());
  GenerateRequest r;
  r.json_schema = kSchema;
  r.temperature = 0;
  auto s = TokenSampler::make(vocab(), r, 1, grammars);
  ASSERT_TRUE(s.ok());
  auto reference = grammars.grammar_for(kSchema);  // applied to the whole vocabulary
  ASSERT_TRUE(reference.ok());
  const auto n = static_cast<std::size_t>(llama_vocab_n_tokens(vocab()));
  std::mt19937 rng(11);
  std::normal_distribution<float> noise(0.0F, 3.0F);
  std::vector<float> logits(n);
  std::vector<llama_token_data> all(n);
  int rejected_picks = 0;
  for (int step = 0; step < 80; ++step) {
    while (auto t = s->forced()) {
      if (llama_vocab_is_eog(vocab(), *t)) return;
      s->accept(*t);
      llama_sampler_accept(reference->get(), *t);
    }
    for (auto& l : logits) l = noise(rng);
    llama_token best = LLAMA_TOKEN_NULL;
    llama_token top = 0;
    for (std::size_t i = 0; i < n; ++i) {
      all[i] = {static_cast<llama_token>(i), logits[i], 0.0F};
      if (logits[i] > logits[static_cast<std::size_t>(top)]) top = static_cast<llama_token>(i);
    }
    llama_token_data_array arr{all.data(), all.size(), -1, false};
    llama_sampler_apply(reference->get(), &arr);
    for (std::size_t i = 0; i < arr.size; ++i) {
      if (arr.data[i].logit == -INFINITY) continue;
      if (best == LLAMA_TOKEN_NULL || arr.data[i].logit > logits[static_cast<std::size_t>(best)]) {
        best = arr.data[i].id;
      }
    }
    rejected_picks += best != top ? 1 : 0;
    const llama_token got = s->sample(logits.data());
    ASSERT_EQ(text(got), text(best)) << "step " << step;
    if (llama_vocab_is_eog(vocab(), got)) return;
    s->accept(got);
    llama_sampler_accept(reference->get(), got);
  }
  // Both paths ran: picks the grammar took as they were, and picks it
  // rejected (a quote or a raw byte in the middle of a string).
  EXPECT_GT(rejected_picks, 0);
  EXPECT_LT(rejected_picks, 80);
}

TEST_F(TokenSamplerTest, CachedGrammarsStartFresh) {
  GrammarCache grammars(vocab());
  GenerateRequest r;
  r.json_schema = kSchema;
  auto a = TokenSampler::make(vocab(), r, 1, grammars);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(take_forced(*a), R"({"intent":")");
  // A second sampler for the same schema is a copy of the parsed grammar in
  // its start state, not of the first sampler's.
  auto b = TokenSampler::make(vocab(), r, 1, grammars);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(take_forced(*b), R"({"intent":")");
  r.json_schema = R"({"type":"string","pattern":"x"})";
  EXPECT_EQ(TokenSampler::make(vocab(), r, 1, grammars).error().code, ErrorCode::kBadRequest);
}

}  // namespace
}  // namespace scribepod::llm
