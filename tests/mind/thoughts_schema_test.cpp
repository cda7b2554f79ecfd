#include "mind/thoughts_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace scribepod::mind {
namespace {

using ::testing::HasSubstr;

nlohmann::json valid_object() {
  return {{"intent", "to find out how to fix the build"},
          {"person_is", "a curious engineer"},
          {"extra_state", "they have been stuck for an hour"},
          {"thoughts", "a stubborn bug usually hides one wrong assumption"},
          {"response", "Let's look at the error together. What does it say?"}};
}

TEST(ThoughtsSchema, SchemaListsFiveRequiredBoundedStringsAndNoExtras) {
  const auto schema = nlohmann::ordered_json::parse(thoughts_json_schema());
  EXPECT_EQ(schema["type"], "object");
  EXPECT_EQ(schema["additionalProperties"], false);
  ASSERT_EQ(schema["required"].size(), 5U);
  for (const auto& field : thoughts_fields()) {
    const auto& p = schema["properties"][std::string(field.name)];
    EXPECT_EQ(p["type"], "string") << field.name;
    EXPECT_EQ(p["minLength"], 1) << field.name;
    EXPECT_EQ(p["maxLength"], field.max_length) << field.name;
  }
  // The grammar follows property order: the original's field order.
  EXPECT_EQ(schema["properties"].begin().key(), "intent");
}

TEST(ThoughtsSchema, ParsesAValidObjectAndTrimsValues) {
  auto obj = valid_object();
  obj["response"] = "  Hello there!\n";
  auto t = parse_thoughts(obj.dump());
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->intent, "to find out how to fix the build");
  EXPECT_EQ(t->person_is, "a curious engineer");
  EXPECT_EQ(t->extra_state, "they have been stuck for an hour");
  EXPECT_EQ(t->thoughts, "a stubborn bug usually hides one wrong assumption");
  EXPECT_EQ(t->response, "Hello there!");
  EXPECT_TRUE(t->engine.empty());
}

TEST(ThoughtsSchema, AcceptsWhitespaceAroundTheObjectAndAnyFieldOrder) {
  auto t = parse_thoughts(
      "\n {\"response\":\"r\",\"thoughts\":\"t\",\"extra_state\":\"e\",\"person_is\":\"p\","
      "\"intent\":\"i\"}\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->response, "r");
  EXPECT_EQ(t->intent, "i");
}

TEST(ThoughtsSchema, RejectsNonJsonWithUpstreamFailed) {
  for (const char* bad : {"", "   ", "Sure! Here are my thoughts.", "{\"intent\": \"x\"",
                          "```json\n{}\n```", "{} {}"}) {
    auto t = parse_thoughts(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.error().code, ErrorCode::kUpstreamFailed) << bad;
    EXPECT_THAT(t.error().message, HasSubstr("invalid thoughts JSON")) << bad;
  }
}

TEST(ThoughtsSchema, RejectsNonObjects) {
  auto t = parse_thoughts("[1, 2]");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().message, HasSubstr("an array, not a JSON object"));
}

TEST(ThoughtsSchema, ListsEveryProblemAtOnce) {
  nlohmann::json obj = {{"intent", "  "},
                        {"person_is", 42},
                        {"thoughts", nullptr},
                        {"response", std::string(801, 'x')},
                        {"mood", "happy"}};
  auto t = parse_thoughts(obj.dump());
  ASSERT_FALSE(t.ok());
  const std::string& m = t.error().message;
  EXPECT_THAT(m, HasSubstr("field \"intent\" is empty"));
  EXPECT_THAT(m, HasSubstr("field \"person_is\" is a number, not a string"));
  EXPECT_THAT(m, HasSubstr("missing field \"extra_state\""));
  EXPECT_THAT(m, HasSubstr("field \"thoughts\" is null, not a string"));
  EXPECT_THAT(m, HasSubstr("field \"response\" is 801 characters long, over the limit of 800"));
  EXPECT_THAT(m, HasSubstr("unexpected field \"mood\""));
}

TEST(ThoughtsSchema, CountsLengthInCharactersNotBytes) {
  auto obj = valid_object();
  std::string snowmen;
  for (int i = 0; i < 800; ++i) snowmen += "\xE2\x98\x83";  // 800 characters, 2400 bytes
  obj["response"] = snowmen;
  EXPECT_TRUE(parse_thoughts(obj.dump()).ok());
  obj["response"] = snowmen + "!";
  EXPECT_FALSE(parse_thoughts(obj.dump()).ok());
}

TEST(ThoughtsSchema, RejectsInvalidUtf8InStrings) {
  std::string text = valid_object().dump();
  text.replace(text.find("curious"), 1, "\xC3");
  EXPECT_FALSE(parse_thoughts(text).ok());
}

TEST(ThoughtsSchema, ErrorMessagesStayPrintableAndBounded) {
  nlohmann::json obj = valid_object();
  obj[std::string("\x01\x7F") + std::string(100, 'k')] = "x";
  for (int i = 0; i < 50; ++i) obj["extra" + std::to_string(i)] = i;
  auto t = parse_thoughts(obj.dump());
  ASSERT_FALSE(t.ok());
  const std::string& m = t.error().message;
  EXPECT_LT(m.size(), 800U);
  EXPECT_THAT(m, HasSubstr("more problems"));
  for (char c : m) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << static_cast<int>(c);
}

TEST(ThoughtsSchema, SurvivesDeepNesting) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(parse_thoughts(deep).ok());
}

}  // namespace
}  // namespace scribepod::mind
