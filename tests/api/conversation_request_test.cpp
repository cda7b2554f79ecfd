#include "api/conversation_request.h"

#include <gtest/gtest.h>

namespace scribepod::api {
namespace {

TEST(GenerateThotsBody, AcceptsAListOfStrings) {
  auto lines = parse_generate_thots(
      R"({"conversation_speech": ["person: hi", "person: how are you?"], "extra": 1})");
  ASSERT_TRUE(lines.ok()) << lines.error().message;
  EXPECT_EQ(*lines, (std::vector<std::string>{"person: hi", "person: how are you?"}));
}

TEST(GenerateThotsBody, RejectsEachMalformedShapeWithAPreciseMessage) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {"{}", "missing field \"conversation_speech\""},
      {R"({"conversation_speech": "person: hi"})", "must be a list of strings"},
      {R"({"conversation_speech": []})", "must not be empty"},
      {R"({"conversation_speech": ["ok", 3]})", "[1] must be a string, got number"},
      {R"({"conversation_speech": [null]})", "[0] must be a string, got null"},
      {R"({"conversation_speech": [[[[[["x"]]]]]]})", "nested too deeply"},
  };
  for (const auto& [body, expected] : cases) {
    auto r = parse_generate_thots(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
    EXPECT_NE(r.error().message.find(expected), std::string::npos)
        << body << " -> " << r.error().message;
  }
}

TEST(GenerateThotsBody, EnforcesCountAndLengthLimits) {
  ThotsLimits limits;
  limits.max_lines = 2;
  limits.max_line_bytes = 5;
  EXPECT_TRUE(parse_generate_thots(R"({"conversation_speech": ["12345", "a"]})", limits).ok());
  auto too_many = parse_generate_thots(R"({"conversation_speech": ["a", "b", "c"]})", limits);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().message.find("3 entries; at most 2"), std::string::npos);
  auto too_long = parse_generate_thots(R"({"conversation_speech": ["123456"]})", limits);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("6 bytes; at most 5"), std::string::npos);
}

TEST(JsonContentType, AcceptsJsonTypesAndAbsence) {
  for (const char* ok : {"", "application/json", "Application/JSON; charset=utf-8",
                         " application/json ", "application/vnd.api+json"}) {
    EXPECT_TRUE(check_json_content_type(ok).ok()) << ok;
  }
  for (const char* bad :
       {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/", "application/+json", "json", "text/json"}) {
    auto r = check_json_content_type(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUnsupportedMediaType) << bad;
  }
}

TEST(Chunk, AcceptsPositiveIntegersOnly) {
  EXPECT_EQ(*parse_chunk("1"), 1);
  EXPECT_EQ(*parse_chunk("42"), 42);
  EXPECT_EQ(*parse_chunk("1000000"), 1'000'000);
  for (const char* bad :
       {"", "0", "-1", "+1", "01", "1.5", "abc", " 1", "1 ", "1000001", "99999999999999999999"}) {
    auto r = parse_chunk(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
    EXPECT_NE(r.error().message.find("positive integer"), std::string::npos);
  }
}

TEST(SessionHeader, EmptyMeansNoneAndMalformedIs400) {
  EXPECT_EQ(*parse_session_header(""), "");
  EXPECT_EQ(*parse_session_header("3F2B8C1E-9A4D-4C7E-8B1F-0D2E6A5C7B90"),
            "3f2b8c1e-9a4d-4c7e-8b1f-0d2e6a5c7b90");
  auto bad = parse_session_header("my-session");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kBadRequest);
}

TEST(IdempotencyKey, EmptyMeansNoneAndVisibleAsciiUpTo255Bytes) {
  EXPECT_EQ(*parse_idempotency_key(""), "");
  EXPECT_EQ(*parse_idempotency_key("3f2b8c1e-9a4d-4c7e-8b1f-0d2e6a5c7b90"),
            "3f2b8c1e-9a4d-4c7e-8b1f-0d2e6a5c7b90");
  EXPECT_EQ(*parse_idempotency_key("!~"), "!~");
  EXPECT_EQ(*parse_idempotency_key(std::string(255, 'k')), std::string(255, 'k'));
  for (const std::string& bad :
       {std::string(256, 'k'), std::string("two words"), std::string("tab\there"),
        std::string("caf\xc3\xa9"), std::string("nul\0", 4), std::string("del\x7f")}) {
    auto r = parse_idempotency_key(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
    EXPECT_NE(r.error().message.find("Idempotency-Key"), std::string::npos);
  }
}

}  // namespace
}  // namespace scribepod::api
