#include "mind/heuristic/heuristic_thoughts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mind/thoughts_schema.h"

namespace scribepod::mind {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Thoughts think(const std::vector<std::string>& conversation) {
  HeuristicThoughts engine;
  ThinkRequest r;
  r.conversation = conversation;
  auto t = engine.think(r);
  if (!t.ok()) ADD_FAILURE() << t.error().message;
  return t.ok() ? std::move(t).value() : Thoughts{};
}

// Every answer must pass the same validation a model's answer does.
void expect_valid(const Thoughts& t) {
  const std::string json = nlohmann::json{
      {"intent", t.intent},
      {"person_is", t.person_is},
      {"extra_state", t.extra_state},
      {"thoughts", t.thoughts},
      {"response", t.response}}.dump();
  auto parsed = parse_thoughts(json);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  EXPECT_EQ(t.engine, "heuristic");
}

TEST(HeuristicThoughts, Question) {
  const auto t = think({"person: why does my python build keep failing"});
  expect_valid(t);
  EXPECT_THAT(t.intent, HasSubstr("to understand the reasons behind"));
  EXPECT_THAT(t.intent, HasSubstr("their python build"));  // "my" turned around
  EXPECT_THAT(t.response, HasSubstr("your python build"));
  EXPECT_THAT(t.response, HasSubstr("?"));
  EXPECT_THAT(t.thoughts, HasSubstr("wrong assumption"));  // software association
}

TEST(HeuristicThoughts, Request) {
  const auto t = think({"person: could you summarize my meeting notes please"});
  expect_valid(t);
  EXPECT_EQ(t.intent, "to get the agent to summarize their meeting notes");
  EXPECT_THAT(t.response, HasSubstr("summarize your meeting notes"));
}

TEST(HeuristicThoughts, Greeting) {
  const auto hello = think({"person: hello"});
  expect_valid(hello);
  EXPECT_EQ(hello.intent, "to greet the agent and open the conversation");
  EXPECT_THAT(hello.response, ::testing::AnyOf(HasSubstr("Hello"), HasSubstr("Hi")));
  EXPECT_THAT(hello.person_is, HasSubstr("friendly"));

  const auto bye = think({"person: I went hiking today", "person: okay goodbye"});
  expect_valid(bye);
  EXPECT_THAT(bye.intent, HasSubstr("say goodbye"));
  EXPECT_THAT(bye.thoughts, HasSubstr("wrapping up after talking about"));

  const auto how = think({"person: hi there how are you doing today"});
  expect_valid(how);
  EXPECT_EQ(how.intent, "to greet the agent and ask how it is doing");
  EXPECT_THAT(how.thoughts, Not(HasSubstr("how")));

  const auto thanks = think({"person: thank you"});
  EXPECT_EQ(thanks.intent, "to thank the agent");
  EXPECT_THAT(thanks.response, ::testing::AnyOf(HasSubstr("welcome"), HasSubstr("Happy to help")));
}

TEST(HeuristicThoughts, Opinion) {
  const auto love = think({"person: I love jazz music"});
  expect_valid(love);
  EXPECT_EQ(love.intent, "to share their enthusiasm for jazz music");
  EXPECT_THAT(love.response, HasSubstr("jazz music"));
  const auto hate = think({"person: honestly the new office layout is terrible"});
  expect_valid(hate);
  EXPECT_THAT(hate.intent, HasSubstr("frustration"));
}

TEST(HeuristicThoughts, Statement) {
  const auto t = think({"person: my sister moved to Berlin last week"});
  expect_valid(t);
  EXPECT_THAT(t.intent, HasSubstr("to tell the agent about"));
  EXPECT_THAT(t.extra_state, HasSubstr("first thing they have said"));
}

TEST(HeuristicThoughts, ExtraStateNoticesARecurringTopic) {
  const auto t = think({"person: I have a job interview on Monday",
                        "person: the interview is for a design role",
                        "person: what should I wear to the interview"});
  expect_valid(t);
  EXPECT_THAT(t.extra_state, HasSubstr("keep coming back to interview"));
  EXPECT_THAT(t.extra_state, HasSubstr("3 of their 3"));
}

TEST(HeuristicThoughts, FeelingsShowInPersonAndState) {
  const auto t = think({"person: I'm so stressed about the deadline at work"});
  expect_valid(t);
  EXPECT_THAT(t.person_is, HasSubstr("stressed"));
  EXPECT_THAT(t.extra_state, HasSubstr("stressed"));
}

TEST(HeuristicThoughts, Deterministic) {
  const std::vector<std::string> c = {"person: I like to cook pasta",
                                      "person: what goes well with basil"};
  const auto a = think(c);
  const auto b = think(c);
  EXPECT_EQ(a.intent, b.intent);
  EXPECT_EQ(a.person_is, b.person_is);
  EXPECT_EQ(a.extra_state, b.extra_state);
  EXPECT_EQ(a.thoughts, b.thoughts);
  EXPECT_EQ(a.response, b.response);
}

TEST(HeuristicThoughts, CallsOnResponseOnceAndRejectsEmpty) {
  HeuristicThoughts engine;
  ThinkRequest r;
  r.conversation = {"person: hello"};
  int calls = 0;
  std::string got;
  r.on_response = [&](std::string_view piece) {
    ++calls;
    got = piece;
    return true;
  };
  auto t = engine.think(r);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, t->response);
  EXPECT_EQ(t->prompt_tokens, 0);

  r.conversation = {};
  EXPECT_EQ(engine.think(r).error().code, ErrorCode::kBadRequest);
  r.conversation = {"person:   ", ""};
  EXPECT_EQ(engine.think(r).error().code, ErrorCode::kBadRequest);
}

TEST(HeuristicThoughts, HostileInputStaysWithinTheSchema) {
  std::string huge = "person: can you ";
  for (int i = 0; i < 2000; ++i) huge += std::string(60, static_cast<char>('a' + i % 26)) + " ";
  expect_valid(think({huge}));
  expect_valid(think({"person: \xFF\xFE\xC3 {{response}} \"quoted\" \n\t ?"}));
  expect_valid(think({"person: ?"}));
  const auto t = think({"person: uh um"});
  expect_valid(t);
  EXPECT_THAT(t.response, Not(HasSubstr("{")));
}

}  // namespace
}  // namespace scribepod::mind
