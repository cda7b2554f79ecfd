// The /v1/chat/completions wire format on its own: the request body we send
// and the replies we accept or reject, with no server involved.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "llm/openai/chat_completion.h"

namespace scribepod::llm {
namespace {

using nlohmann::json;

constexpr const char* kSchema =
    R"({"type":"object","properties":{"intent":{"type":"string"}},"required":["intent"],)"
    R"("additionalProperties":false})";

GenerateRequest chat(std::string user) {
  GenerateRequest r;
  r.messages = {{"system", "You are a listener."}, {"user", std::move(user)}};
  return r;
}

TEST(ChatCompletionBodyTest, CarriesModelMessagesAndSampling) {
  GenerateRequest r = chat("person: hello there");
  r.max_tokens = 128;
  r.temperature = 0.2F;
  r.seed = 42;
  auto body = build_chat_completion_body("qwen2.5-7b", r);
  ASSERT_TRUE(body.ok()) << body.error().message;
  const json j = json::parse(*body);
  EXPECT_EQ(j["model"], "qwen2.5-7b");
  EXPECT_EQ(j["messages"], json::parse(R"([{"role":"system","content":"You are a listener."},)"
                                       R"({"role":"user","content":"person: hello there"}])"));
  EXPECT_EQ(j["max_tokens"], 128);
  EXPECT_EQ(j["temperature"].get<double>(), 0.2);  // not 0.20000000298...
  EXPECT_EQ(j["seed"], 42);
  EXPECT_EQ(j["stream"], false);
  EXPECT_FALSE(j.contains("response_format"));  // free text
}

TEST(ChatCompletionBodyTest, SeedZeroMeansServerDefaultAndIsOmitted) {
  auto body = build_chat_completion_body("m", chat("hi"));
  ASSERT_TRUE(body.ok());
  EXPECT_FALSE(json::parse(*body).contains("seed"));
}

TEST(ChatCompletionBodyTest, SchemaGoesOutAsStrictJsonSchemaResponseFormat) {
  GenerateRequest r = chat("hi");
  r.json_schema = kSchema;
  auto body = build_chat_completion_body("m", r);
  ASSERT_TRUE(body.ok()) << body.error().message;
  const json rf = json::parse(*body)["response_format"];
  EXPECT_EQ(rf["type"], "json_schema");
  EXPECT_EQ(rf["json_schema"]["name"], "output");
  EXPECT_EQ(rf["json_schema"]["strict"], true);
  EXPECT_EQ(rf["json_schema"]["schema"], json::parse(kSchema));  // an object, not a string
}

TEST(ChatCompletionBodyTest, BrokenSchemaIsOurBug) {
  GenerateRequest r = chat("hi");
  r.json_schema = R"({"type": "object",)";
  auto body = build_chat_completion_body("m", r);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.error().code, ErrorCode::kInternal);
  EXPECT_NE(body.error().message.find("not a JSON object"), std::string::npos);
}

TEST(ChatCompletionBodyTest, BrokenUtf8InTheConversationIsReplacedNotFatal) {
  auto body = build_chat_completion_body("m", chat("caf\xC3 ok"));
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(json::parse(*body)["messages"][1]["content"], "caf\xEF\xBF\xBD ok");  // U+FFFD
}

TEST(ChatCompletionParseTest, ReadsContentModelUsageAndFinishReason) {
  auto c = parse_chat_completion(R"({
    "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "finish_reason": "length",
                 "message": {"role": "assistant", "content": "{\"intent\": \"greet"}}],
    "usage": {"prompt_tokens": 31, "completion_tokens": 7, "total_tokens": 38}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->content, "{\"intent\": \"greet");
  EXPECT_EQ(c->model, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(c->finish_reason, "length");
  EXPECT_EQ(c->prompt_tokens, 31);
  EXPECT_EQ(c->completion_tokens, 7);
}

TEST(ChatCompletionParseTest, MissingUsageAndModelReadAsUnknown) {
  auto c = parse_chat_completion(R"({"choices":[{"message":{"content":"hi"}}]})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->content, "hi");
  EXPECT_EQ(c->model, "");
  EXPECT_EQ(c->prompt_tokens, 0);
  EXPECT_EQ(c->finish_reason, "");
  // Counts a server got wrong are unknown, not garbage.
  auto odd = parse_chat_completion(
      R"({"choices":[{"message":{"content":""}}],"usage":{"prompt_tokens":-3,)"
      R"("completion_tokens":99999999999}})");
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->prompt_tokens, 0);
  EXPECT_EQ(odd->completion_tokens, 0);
}

void expect_unusable(std::string_view body, std::string_view message) {
  auto c = parse_chat_completion(body);
  ASSERT_FALSE(c.ok()) << "accepted: " << body;
  EXPECT_EQ(c.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(c.error().message, message);
}

TEST(ChatCompletionParseTest, RejectsWhatIsNotACompletion) {
  expect_unusable("<html><body>502 Bad Gateway</body></html>",
                  R"(reply is not JSON (starts with "<html><body>502 Bad Gateway</body></html>"))");
  expect_unusable("", R"(reply is not JSON (starts with ""))");
  expect_unusable(R"(["choices"])", "reply is not a JSON object");
  expect_unusable(R"({"object":"chat.completion"})", R"(reply has no "choices" array)");
  expect_unusable(R"({"choices":[]})", R"(reply has an empty "choices" array)");
  expect_unusable(R"({"choices":[{"text":"legacy completion"}]})",
                  R"(reply's choices[0] has no "message" object)");
  expect_unusable(R"({"choices":[{"message":{"content":null}}]})",
                  R"(reply's choices[0].message has no "content" string)");
  expect_unusable(R"({"choices":[{"message":{"content":null,"refusal":"I can't help."}}]})",
                  "the model refused: I can't help.");
  expect_unusable(R"({"error":{"message":"model not loaded","type":"server_error"}})",
                  "reply carries an error: model not loaded");
}

// Until fuzz/ has a driver for it: every prefix of a real reply and a few
// thousand seeded byte mutations either parse or fail with kUpstreamFailed,
// never throw or crash (run under ASan/UBSan too).
TEST(ChatCompletionParseTest, TruncatedAndMutatedRepliesNeverThrow) {
  const std::string reply =
      R"({"id":"x","model":"m","choices":[{"index":0,"finish_reason":"stop",)"
      R"("message":{"role":"assistant","content":"{\"intent\":\"question\"}"}}],)"
      R"("usage":{"prompt_tokens":12,"completion_tokens":5}})";
  ASSERT_TRUE(parse_chat_completion(reply).ok());
  const auto check = [](std::string_view body) {
    Result<ChatCompletion> c = Error::internal("not run");
    ASSERT_NO_THROW(c = parse_chat_completion(body)) << body;
    if (!c.ok()) {
      EXPECT_EQ(c.error().code, ErrorCode::kUpstreamFailed) << body;
    }
  };
  for (size_t n = 0; n < reply.size(); ++n) check(std::string_view(reply).substr(0, n));
  uint32_t state = 12345;  // a fixed LCG: the same mutations on every run
  const auto next = [&state] { return state = state * 1664525U + 1013904223U; };
  for (int i = 0; i < 5000; ++i) {
    std::string mutated = reply;
    for (uint32_t k = 0, flips = 1 + next() % 3; k < flips; ++k) {
      mutated[next() % mutated.size()] = static_cast<char>(next() >> 24);
    }
    check(mutated);
  }
}

}  // namespace
}  // namespace scribepod::llm
