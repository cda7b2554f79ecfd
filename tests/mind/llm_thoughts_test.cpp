// LlmThoughts' own logic: prompting, validation, the one repair attempt and
// streaming of the response field. The language model is replaced by a
// test double, ScriptedGenerator, that returns canned outputs in order and
// records the requests it received; the thing under test is LlmThoughts.
#include "mind/llm_thoughts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mind/engines.h"
#include "mind/thoughts_schema.h"

namespace scribepod::mind {
namespace {

using ::testing::HasSubstr;

// Test double: plays back scripted outputs (text or error), streaming each
// text in pieces of `piece_size` bytes through on_text like an engine would.
class ScriptedGenerator final : public llm::Generator {
 public:
  struct Step {
    std::string text;
    std::optional<Error> error;
    bool truncated = false;  // as if stopped by max_tokens
  };

  explicit ScriptedGenerator(std::vector<Step> steps, std::size_t piece_size = 3)
      : steps_(steps.begin(), steps.end()), piece_size_(piece_size) {}

  std::string name() const override { return "scripted"; }
  std::string describe() const override { return "scripted test generator"; }

  Result<llm::Generation> generate(const llm::GenerateRequest& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (steps_.empty()) return Error::internal("script exhausted");
    Step step = steps_.front();
    steps_.pop_front();
    if (step.error) return *step.error;
    llm::Generation g;
    g.engine = "scripted";
    g.prompt_tokens = 100;
    g.truncated = step.truncated;
    for (std::size_t at = 0; at < step.text.size(); at += piece_size_) {
      const std::string piece = step.text.substr(at, piece_size_);
      g.text += piece;
      ++g.completion_tokens;
      if (request.on_text && !request.on_text(piece)) {
        g.truncated = true;
        break;
      }
    }
    return g;
  }

  std::vector<llm::GenerateRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Step> steps_;
  std::size_t piece_size_;
  std::vector<llm::GenerateRequest> requests_;
};

PromptTemplates repo_prompts() {
  const char* root = std::getenv("SCRIBEPOD_SOURCE_DIR");
  auto t = PromptTemplates::load(std::filesystem::path(root != nullptr ? root : ".") / "prompts");
  if (!t.ok()) throw std::runtime_error(t.error().message);
  return std::move(t).value();
}

std::string valid_json(const std::string& response = "Sure, let's look at it together!") {
  return nlohmann::ordered_json{{"intent", "to get help with a failing build"},
                                {"person_is", "a frustrated developer"},
                                {"extra_state", "they have tried several fixes already"},
                                {"thoughts", "build failures often come from stale caches"},
                                {"response", response}}
      .dump();
}

ThinkRequest request_with(std::vector<std::string> lines, std::string* streamed = nullptr) {
  ThinkRequest r;
  r.conversation = std::move(lines);
  if (streamed != nullptr) {
    r.on_response = [streamed](std::string_view piece) {
      *streamed += piece;
      return true;
    };
  }
  return r;
}

TEST(LlmThoughts, OneGenerationWithTheSchemaAndThePrompts) {
  auto gen =
      std::make_shared<ScriptedGenerator>(std::vector<ScriptedGenerator::Step>{{valid_json(), {}}});
  LlmThoughts engine(gen, repo_prompts());
  std::string streamed;
  auto t =
      engine.think(request_with({"person: my build fails", "person: can you help"}, &streamed));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->intent, "to get help with a failing build");
  EXPECT_EQ(t->response, "Sure, let's look at it together!");
  EXPECT_EQ(t->engine, "scripted");
  EXPECT_EQ(t->prompt_tokens, 100);
  EXPECT_GT(t->completion_tokens, 10);
  EXPECT_GE(t->latency_ms, 0.0);
  EXPECT_EQ(streamed, "Sure, let's look at it together!");

  const auto requests = gen->requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].json_schema, thoughts_json_schema());
  EXPECT_TRUE(requests[0].parallel_fields);  // mind.parallel_fields, on by default
  ASSERT_EQ(requests[0].messages.size(), 2U);
  EXPECT_EQ(requests[0].messages[0].role, "system");
  EXPECT_EQ(requests[0].messages[1].role, "user");
  EXPECT_THAT(requests[0].messages[1].content,
              HasSubstr("person: my build fails\nperson: can you help"));
}

TEST(LlmThoughts, RepairsInvalidOutputOnce) {
  auto gen = std::make_shared<ScriptedGenerator>(std::vector<ScriptedGenerator::Step>{
      {"{\"intent\": \"x\", \"response\": \"\"}", {}}, {valid_json("Fixed answer."), {}}});
  LlmThoughts engine(gen, repo_prompts());
  std::string streamed;
  auto t = engine.think(request_with({"person: hello"}, &streamed));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->response, "Fixed answer.");
  EXPECT_EQ(t->prompt_tokens, 200);  // both attempts counted
  // The first attempt streamed nothing (its response was empty), so the
  // repair attempt streams.
  EXPECT_EQ(streamed, "Fixed answer.");

  const auto requests = gen->requests();
  ASSERT_EQ(requests.size(), 2U);
  const auto& repair = requests[1];
  EXPECT_EQ(repair.json_schema, thoughts_json_schema());
  ASSERT_EQ(repair.messages.size(), 4U);
  EXPECT_EQ(repair.messages[2].role, "assistant");
  EXPECT_EQ(repair.messages[2].content, "{\"intent\": \"x\", \"response\": \"\"}");
  EXPECT_EQ(repair.messages[3].role, "user");
  EXPECT_THAT(repair.messages[3].content, HasSubstr("missing field \"person_is\""));
  EXPECT_THAT(repair.messages[3].content, HasSubstr("field \"response\" is empty"));
}

TEST(LlmThoughts, FailsClearlyWhenTheRepairIsInvalidToo) {
  auto gen = std::make_shared<ScriptedGenerator>(std::vector<ScriptedGenerator::Step>{
      {"I think they want help.", {}}, {"{\"intent\": \"help\"}", {}}});
  LlmThoughts engine(gen, repo_prompts());
  auto t = engine.think(request_with({"person: hello"}));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_THAT(t.error().message, HasSubstr("after one repair attempt"));
  EXPECT_THAT(t.error().message, HasSubstr("missing field \"response\""));
  EXPECT_EQ(gen->requests().size(), 2U);  // exactly one repair
}

TEST(LlmThoughts, StreamedTextIsNotRepeatedByTheRepair) {
  auto gen = std::make_shared<ScriptedGenerator>(std::vector<ScriptedGenerator::Step>{
      {"{\"response\": \"first try\"}", {}}, {valid_json("second try"), {}}});
  LlmThoughts engine(gen, repo_prompts());
  std::string streamed;
  auto t = engine.think(request_with({"person: hello"}, &streamed));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(streamed, "first try");  // provisional; the result is authoritative
  EXPECT_EQ(t->response, "second try");
}

TEST(LlmThoughts, MentionsTruncationInTheRepairPrompt) {
  auto gen = std::make_shared<ScriptedGenerator>(
      std::vector<ScriptedGenerator::Step>{{"{\"intent\": \"to", {}, true}, {valid_json(), {}}});
  LlmThoughts engine(gen, repo_prompts());
  auto t = engine.think(request_with({"person: hello"}));
  ASSERT_TRUE(t.ok());
  const std::string repair =
      gen->requests()[1].messages[3].content;  // a copy: requests() returns by value
  EXPECT_THAT(repair, HasSubstr("not one valid JSON value"));
  EXPECT_THAT(repair, HasSubstr("cut off at the token limit"));
}

TEST(LlmThoughts, PassesGeneratorErrorsThrough) {
  auto gen = std::make_shared<ScriptedGenerator>(std::vector<ScriptedGenerator::Step>{
      {"", Error{ErrorCode::kUpstreamTimeout, "model server timed out", {}}}});
  LlmThoughts engine(gen, repo_prompts());
  auto t = engine.think(request_with({"person: hello"}));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kUpstreamTimeout);
  EXPECT_EQ(gen->requests().size(), 1U);  // no repair for transport errors
}

TEST(LlmThoughts, CancellingTheStreamStopsWithoutRepair) {
  auto gen = std::make_shared<ScriptedGenerator>(
      std::vector<ScriptedGenerator::Step>{{valid_json("a long answer that gets cut"), {}}}, 2);
  LlmThoughts engine(gen, repo_prompts());
  ThinkRequest r;
  r.conversation = {"person: hello"};
  std::string streamed;
  r.on_response = [&](std::string_view piece) {
    streamed += piece;
    return streamed.size() < 4;
  };
  auto t = engine.think(r);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(t.error().message, HasSubstr("cancelled"));
  EXPECT_EQ(gen->requests().size(), 1U);
  EXPECT_LT(streamed.size(), 8U);
}

TEST(LlmThoughts, EmptyConversationIsABadRequest) {
  auto gen = std::make_shared<ScriptedGenerator>(std::vector<ScriptedGenerator::Step>{});
  LlmThoughts engine(gen, repo_prompts());
  auto t = engine.think(request_with({}));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kBadRequest);
  EXPECT_TRUE(gen->requests().empty());
}

TEST(LlmThoughts, StreamsWholeCharactersWhateverThePieceSize) {
  const std::string answer = "Caf\xC3\xA9 \"ol\xC3\xA9\" \xE2\x98\x83\nbye";
  for (std::size_t piece = 1; piece <= 7; ++piece) {
    auto gen = std::make_shared<ScriptedGenerator>(
        std::vector<ScriptedGenerator::Step>{{valid_json(answer), {}}}, piece);
    LlmThoughts engine(gen, repo_prompts());
    std::vector<std::string> pieces;
    ThinkRequest r;
    r.conversation = {"person: hi"};
    r.on_response = [&](std::string_view p) {
      pieces.emplace_back(p);
      return true;
    };
    auto t = engine.think(r);
    ASSERT_TRUE(t.ok()) << t.error().message;
    std::string joined;
    for (const auto& p : pieces) {
      joined += p;
      // No piece starts with a continuation byte: characters are never split.
      ASSERT_NE(static_cast<unsigned char>(p[0]) & 0xC0U, 0x80U) << piece;
    }
    EXPECT_EQ(joined, answer) << piece;
    EXPECT_EQ(t->response, answer);
  }
}

TEST(MindEngines, FactoriesBuildBothEngines) {
  auto h = make_heuristic_thoughts();
  ASSERT_TRUE(h.ok());
  EXPECT_EQ((*h)->name(), "heuristic");
  auto none = make_llm_thoughts(nullptr, repo_prompts());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidConfig);
  auto gen = std::make_shared<ScriptedGenerator>(std::vector<ScriptedGenerator::Step>{});
  auto l = make_llm_thoughts(gen, repo_prompts());
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)->name(), "scripted");
  std::string detail;
  EXPECT_TRUE((*l)->ready(detail));
}

}  // namespace
}  // namespace scribepod::mind
