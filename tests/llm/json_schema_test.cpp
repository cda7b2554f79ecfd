// JsonSchema: parsing the subset, validation messages, and GBNF that the
// real llama.cpp grammar parser accepts (with a generated tiny model's vocab).
#include "llm/json_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <llama.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace scribepod::llm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kThoughtsSchema = R"({
  "type": "object",
  "properties": {
    "intent": {"type": "string", "maxLength": 40},
    "person_is": {"type": "string", "maxLength": 40},
    "extra_state": {"type": "string", "maxLength": 40},
    "thoughts": {"type": "string", "maxLength": 60},
    "response": {"type": "string", "maxLength": 80}
  },
  "required": ["intent", "person_is", "extra_state", "thoughts", "response"],
  "additionalProperties": false
})";

JsonSchema parse_ok(const std::string& text) {
  auto s = JsonSchema::parse(text);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return std::move(s).value();
}

TEST(JsonSchemaTest, ParsesObjectInDeclarationOrder) {
  const auto schema = parse_ok(kThoughtsSchema);
  const auto& root = schema.root();
  ASSERT_EQ(root.type, SchemaNode::Type::kObject);
  ASSERT_EQ(root.properties.size(), 5U);
  EXPECT_EQ(root.properties[0].first, "intent");
  EXPECT_EQ(root.properties[4].first, "response");
  EXPECT_EQ(root.properties[0].second.max_length, 40U);
  EXPECT_FALSE(root.additional_properties);
  EXPECT_EQ(root.required.size(), 5U);
}

TEST(JsonSchemaTest, ParsesArraysEnumsAndScalars) {
  const auto schema = parse_ok(R"({"type":"object","properties":{
      "tags": {"type":"array","items":{"type":"string"},"minItems":1,"maxItems":3},
      "mood": {"enum":["happy","sad"]},
      "n": {"type":"integer"}, "x": {"type":"number"}, "ok": {"type":"boolean",
      "description":"annotations are ignored"}}})");
  const auto& p = schema.root().properties;
  ASSERT_EQ(p.size(), 5U);
  EXPECT_EQ(p[0].second.type, SchemaNode::Type::kArray);
  EXPECT_EQ(p[0].second.max_items, 3U);
  EXPECT_EQ(p[0].second.items.front().type, SchemaNode::Type::kString);
  EXPECT_EQ(p[1].second.type, SchemaNode::Type::kStringEnum);
  EXPECT_THAT(p[1].second.enum_values, ElementsAre("happy", "sad"));
  EXPECT_EQ(p[2].second.type, SchemaNode::Type::kInteger);
  EXPECT_EQ(p[3].second.type, SchemaNode::Type::kNumber);
  EXPECT_EQ(p[4].second.type, SchemaNode::Type::kBoolean);
}

TEST(JsonSchemaTest, RejectsWhatItWouldNotEnforce) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "not valid JSON"},
      {R"({"type":"string","pattern":"a+"})", "unsupported schema keyword \"pattern\""},
      {R"({"anyOf":[{"type":"string"}]})", "\"anyOf\""},
      {R"({"type":"null"})", "unsupported type \"null\""},
      {R"({"type":["string","null"]})", "one type name"},
      {R"({"type":"array"})", "needs \"items\""},
      {R"({"enum":[1,2]})", "only string values"},
      {R"({"type":"string","maxLength":-1})", "maxLength"},
      {R"({"type":"object","properties":{"a":{"type":"string"}},"required":["b"],
          "additionalProperties":false})",
       "\"b\" is required but not declared"},
      {R"({"type":"object","properties":{"a":{"type":"strin"}}})", "$.properties.a.type"},
  };
  for (const auto& [text, expected] : cases) {
    auto s = JsonSchema::parse(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.error().code, ErrorCode::kBadRequest);
    EXPECT_THAT(s.error().message, HasSubstr(expected)) << text;
  }
}

TEST(JsonSchemaTest, ValidInstancePasses) {
  const auto schema = parse_ok(kThoughtsSchema);
  EXPECT_THAT(schema.validate(R"({"intent":"greeting","person_is":"friendly","extra_state":"",
      "thoughts":"hi","response":"Hello!"})"),
              IsEmpty());
}

TEST(JsonSchemaTest, ReportsEveryViolationReadably) {
  const auto schema = parse_ok(kThoughtsSchema);
  const auto errors = schema.validate(
      R"({"intent": 3, "person_is": "this sentence is certainly longer than forty chars",
          "thoughts": "t", "response": "r", "mood": "x"})");
  EXPECT_THAT(errors, ElementsAre("$: missing required property \"extra_state\"",
                                  "$.intent: expected a string, got number",
                                  "$.person_is: longer than 40 characters",
                                  "$: unexpected property \"mood\""));
  EXPECT_THAT(schema.validate("{\"intent\": "), ElementsAre(HasSubstr("not valid JSON")));
  EXPECT_THAT(schema.validate("[]"), ElementsAre("$: expected an object, got array"));
}

TEST(JsonSchemaTest, CountsCharactersNotBytes) {
  const auto schema = parse_ok(R"({"type":"string","maxLength":3})");
  EXPECT_THAT(schema.validate("\"h\xC3\xA9\xC3\xA9\""), IsEmpty());  // "héé"
  EXPECT_THAT(schema.validate("\"abcd\""), ElementsAre("$: longer than 3 characters"));
}

TEST(JsonSchemaTest, ValidatesArraysEnumsAndNumbers) {
  const auto schema = parse_ok(R"({"type":"object","properties":{
      "tags": {"type":"array","items":{"type":"integer"},"maxItems":2},
      "mood": {"enum":["happy","sad"]}, "x": {"type":"number"}, "ok": {"type":"boolean"}}})");
  EXPECT_THAT(schema.validate(R"({"tags":[1,2.0],"mood":"sad","x":1.5,"ok":true})"), IsEmpty());
  EXPECT_THAT(
      schema.validate(R"({"tags":[1,2,3],"mood":"meh","x":"1","ok":1})"),
      ElementsAre("$.tags: more than 2 items", "$.mood: \"meh\" is not one of the allowed values",
                  "$.x: expected a number, got string",
                  "$.ok: expected true or false, got number"));
  EXPECT_THAT(schema.validate(R"({"tags":[1.5]})"),
              ElementsAre("$.tags[0]: expected an integer, got number"));
}

TEST(JsonSchemaTest, GbnfHasOneRulePerNode) {
  const auto schema = parse_ok(kThoughtsSchema);
  const std::string g = schema.to_gbnf();
  EXPECT_THAT(
      g, HasSubstr("root ::= \"{\" \"\\\"intent\\\":\" root-0 \",\\\"person_is\\\":\" root-1"));
  EXPECT_THAT(g, HasSubstr("root-0 ::= \"\\\"\" char{0,40} \"\\\"\""));
  EXPECT_THAT(g, HasSubstr("char ::= "));
}

// The real check: llama.cpp's grammar parser accepts what we produce.
class GbnfInLlamaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() /
           ("scribepod-json-schema-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const auto path = (dir_ / "tiny.gguf").string();
    const std::string cmd =
        std::string(SCRIBEPOD_TINY_GGUF_TOOL) + " --arch llama --out '" + path + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
    model_ = llama_model_load_from_file(path.c_str(), mp);
    ASSERT_NE(model_, nullptr);
  }
  static void TearDownTestSuite() {
    if (model_ != nullptr) {
      llama_model_free(model_);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  static bool accepts(const std::string& gbnf) {
    llama_sampler* s =
        llama_sampler_init_grammar(llama_model_get_vocab(model_), gbnf.c_str(), "root");
    if (s == nullptr) {
      return false;
    }
    llama_sampler_free(s);
    return true;
  }
  static inline std::filesystem::path dir_;
  static inline llama_model* model_ = nullptr;
};

TEST_F(GbnfInLlamaTest, AcceptsEveryKindOfNode) {
  const char* schemas[] = {
      kThoughtsSchema,
      R"({"type":"object","properties":{
        "tags": {"type":"array","items":{"type":"string","minLength":1},"minItems":1,"maxItems":3},
        "any": {"type":"array","items":{"type":"number"}},
        "none": {"type":"array","items":{"type":"number"},"maxItems":0},
        "mood": {"enum":["happy","sa\"d","\u00e9t\u00e9"]},
        "n": {"type":"integer"}, "ok": {"type":"boolean"},
        "nested": {"type":"object","properties":{"k\\ey":{"type":"string"}}},
        "empty": {"type":"object"}}})",
      R"({"type":"string"})",
  };
  for (const char* text : schemas) {
    const auto g = parse_ok(text).to_gbnf();
    EXPECT_TRUE(accepts(g)) << g;
  }
}

TEST_F(GbnfInLlamaTest, RejectsBrokenGrammarSoTheCheckCanFail) {
  EXPECT_FALSE(accepts("root ::= \"{\" missing-rule"));
}

}  // namespace
}  // namespace scribepod::llm
