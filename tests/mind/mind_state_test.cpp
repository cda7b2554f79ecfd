#include "mind/mind_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace scribepod::mind {
namespace {

using Clock = MindState::Clock;
using ::testing::ElementsAre;

Thoughts thoughts_with(const std::string& n) {
  Thoughts t;
  t.intent = "intent " + n;
  t.person_is = "person " + n;
  t.extra_state = "extra " + n;
  t.thoughts = "thought " + n;
  t.response = "response " + n;
  return t;
}

TEST(MindState, ChunksAppendOrReplaceTheLastUtterance) {
  MindState s(Clock::time_point{});
  ASSERT_TRUE(s.update_conversation("hello", 1).ok());
  ASSERT_TRUE(s.update_conversation("how are", 1).ok());
  ASSERT_TRUE(s.update_conversation("how are you", 2).ok());
  EXPECT_THAT(s.utterances(), ElementsAre("hello", "how are you"));
  EXPECT_EQ(s.update_conversation("x", 0).error().code, ErrorCode::kBadRequest);

  MindState fresh;
  ASSERT_TRUE(fresh.update_conversation("late chunk", 3).ok());
  EXPECT_THAT(fresh.utterances(), ElementsAre("late chunk"));
}

TEST(MindState, ConversationLinesArePersonLines) {
  MindState s;
  ASSERT_TRUE(s.update_conversation("hello", 1).ok());
  ASSERT_TRUE(s.update_conversation("  ", 1).ok());
  ASSERT_TRUE(s.update_conversation("note: this has a colon", 1).ok());
  EXPECT_THAT(s.conversation_lines(),
              ElementsAre("person: hello", "person: note: this has a colon"));
}

TEST(MindState, KeepsTheLastFiveDistinctMostRecentLast) {
  MindState s;
  for (int i = 1; i <= 7; ++i) s.update_thoughts(thoughts_with(std::to_string(i)));
  EXPECT_THAT(s.derived_intent(),
              ElementsAre("intent 3", "intent 4", "intent 5", "intent 6", "intent 7"));
  // thoughts gets both thoughts and extra_state, in that order.
  EXPECT_THAT(s.thoughts(), ElementsAre("extra 5", "thought 6", "extra 6", "thought 7", "extra 7"));
  // A repeated value moves to the end instead of appearing twice.
  s.update_thoughts(thoughts_with("4"));
  EXPECT_THAT(s.derived_intent(),
              ElementsAre("intent 3", "intent 5", "intent 6", "intent 7", "intent 4"));
  EXPECT_THAT(s.subject_is(),
              ElementsAre("person 3", "person 5", "person 6", "person 7", "person 4"));
  EXPECT_THAT(s.responses(),
              ElementsAre("response 3", "response 5", "response 6", "response 7", "response 4"));
  EXPECT_EQ(s.latest_response(), "response 4");
}

TEST(MindState, SameValueTwiceIsKeptOnceAndEmptyIsSkipped) {
  MindState s;
  Thoughts t = thoughts_with("a");
  t.extra_state = t.thoughts;
  t.response = "";
  s.update_thoughts(t);
  s.update_thoughts(t);
  EXPECT_THAT(s.thoughts(), ElementsAre("thought a"));
  EXPECT_TRUE(s.responses().empty());
  EXPECT_EQ(s.latest_response(), "");
}

TEST(MindState, TracksActivityAndStateType) {
  const Clock::time_point t0{std::chrono::milliseconds(1000)};
  MindState s(t0);
  EXPECT_EQ(s.last_activity(), t0);
  EXPECT_EQ(s.state_type(), StateType::kListening);
  ASSERT_TRUE(s.update_conversation("hi", 1, t0 + std::chrono::seconds(5)).ok());
  EXPECT_EQ(s.last_activity(), t0 + std::chrono::seconds(5));
  s.update_thoughts(thoughts_with("1"), t0 + std::chrono::seconds(7));
  EXPECT_EQ(s.last_activity(), t0 + std::chrono::seconds(7));
  s.set_state_type(StateType::kResponding, t0 + std::chrono::seconds(8));
  EXPECT_EQ(s.state_type(), StateType::kResponding);
  EXPECT_EQ(state_type_name(StateType::kDone), "done");
}

TEST(MindState, JsonHasTheOriginalConversationStateShape) {
  MindState s(Clock::time_point{std::chrono::milliseconds(1234567)});
  ASSERT_TRUE(
      s.update_conversation("hello", 1, Clock::time_point{std::chrono::milliseconds(1234567)})
          .ok());
  s.update_thoughts(thoughts_with("1"), Clock::time_point{std::chrono::milliseconds(1234567)});
  const auto state = s.conversation_state_json();
  EXPECT_EQ(state.size(), 4U);
  EXPECT_EQ(state["thoughts"], nlohmann::json({"thought 1", "extra 1"}));
  EXPECT_EQ(state["derived_intent"], nlohmann::json({"intent 1"}));
  EXPECT_EQ(state["subject_is"], nlohmann::json({"person 1"}));
  EXPECT_EQ(state["responses"], nlohmann::json({"response 1"}));

  const auto full = s.to_json();
  EXPECT_EQ(full["conversation"], nlohmann::json({"hello"}));
  EXPECT_EQ(full["stateType"], "listening");
  EXPECT_EQ(full["lastActivity"], 1234567);
  EXPECT_EQ(full["thoughts"], state["thoughts"]);
}

}  // namespace
}  // namespace scribepod::mind
