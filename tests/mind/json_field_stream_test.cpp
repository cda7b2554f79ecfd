#include "mind/json_field_stream.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace scribepod::mind {
namespace {

std::string extract_whole(std::string_view json, std::string field = "response") {
  JsonFieldStream s(std::move(field));
  std::string out = s.feed(json);
  out += s.finish();
  return out;
}

std::string extract_bytewise(std::string_view json, std::string field = "response") {
  JsonFieldStream s(std::move(field));
  std::string out;
  for (char c : json) out += s.feed(std::string_view(&c, 1));
  out += s.finish();
  return out;
}

// A sample with everything that makes streaming hard: the field in the
// middle, a decoy key inside a nested object and inside a string, escapes,
// a \u escape, a surrogate pair and raw multi-byte UTF-8.
const std::string kSample =
    "{\"intent\": \"to say \\\"response\\\": hi\", \"nested\": {\"response\": \"decoy\"},"
    " \"response\" : \"Caf\\u00e9 \\\"ok\\\"\\n\\ud83d\\ude00 na\xC3\xAFve \xE2\x98\x83 \\\\ end\","
    " \"thoughts\": \"t\"}";
const std::string kSampleValue =
    "Caf\xC3\xA9 \"ok\"\n\xF0\x9F\x98\x80 na\xC3\xAFve \xE2\x98\x83 \\ end";

TEST(JsonFieldStream, ExtractsTheTopLevelFieldOnly) {
  EXPECT_EQ(extract_whole(kSample), kSampleValue);
  EXPECT_EQ(extract_whole(kSample, "intent"), "to say \"response\": hi");
  EXPECT_EQ(extract_whole(kSample, "thoughts"), "t");
  EXPECT_EQ(extract_whole(kSample, "missing"), "");
}

TEST(JsonFieldStream, EverySplitGivesTheSameText) {
  // Property: for every split point (and every pair of split points),
  // the concatenated output equals the unsplit extraction.
  const std::string expected = extract_whole(kSample);
  for (std::size_t i = 0; i <= kSample.size(); ++i) {
    for (std::size_t j = i; j <= kSample.size(); ++j) {
      JsonFieldStream s("response");
      std::string out = s.feed(std::string_view(kSample).substr(0, i));
      out += s.feed(std::string_view(kSample).substr(i, j - i));
      out += s.feed(std::string_view(kSample).substr(j));
      out += s.finish();
      ASSERT_EQ(out, expected) << "split at " << i << " and " << j;
    }
  }
  EXPECT_EQ(extract_bytewise(kSample), expected);
}

TEST(JsonFieldStream, StreamsIncrementallyAndNeverSplitsACharacter) {
  JsonFieldStream s("response");
  EXPECT_EQ(s.feed("{\"response\": \"He"), "He");
  EXPECT_TRUE(s.found());
  EXPECT_EQ(s.feed("llo \xE2\x98"), "llo ");  // half a snowman is held back
  EXPECT_EQ(s.feed("\x83 \\u00"), "\xE2\x98\x83 ");
  EXPECT_EQ(s.feed("e9\"}"), "\xC3\xA9");
  EXPECT_TRUE(s.complete());
  EXPECT_EQ(s.feed(" more"), "");
}

TEST(JsonFieldStream, FieldMayComeFirstOrLast) {
  EXPECT_EQ(extract_whole("{\"response\":\"first\",\"intent\":\"x\"}"), "first");
  EXPECT_EQ(extract_whole("{\"intent\":\"x\",\"n\":[1,{\"a\":\"b\"}],\"response\":\"last\"}"),
            "last");
}

TEST(JsonFieldStream, IgnoresNonStringValuesAndTextAroundTheObject) {
  EXPECT_EQ(extract_whole("{\"response\": 42, \"x\": \"no\"}"), "");
  EXPECT_EQ(extract_whole("{\"response\": {\"response\": \"inner\"}}"), "");
  EXPECT_EQ(extract_whole("Here you go: {\"response\": \"yes\"} done"), "yes");
  EXPECT_EQ(extract_whole("[\"response\", \"no\"]"), "");
  EXPECT_EQ(extract_whole("{\"intent\": \"response\", \"x\": \"no\"}"), "");
}

TEST(JsonFieldStream, DecodesEscapedKeys) {
  EXPECT_EQ(extract_whole("{\"respon\\u0073e\": \"escaped key\"}"), "escaped key");
  EXPECT_EQ(extract_whole("{\"responses\": \"no\", \"respons\": \"no\"}"), "");
}

TEST(JsonFieldStream, EmitsOnlyTheFirstOccurrence) {
  EXPECT_EQ(extract_whole("{\"response\": \"one\", \"response\": \"two\"}"), "one");
}

TEST(JsonFieldStream, BrokenEscapesAndBytesBecomeReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(extract_whole("{\"response\": \"a\\u12x4b\"}"), "a" + fffd + "x4b");
  EXPECT_EQ(extract_whole("{\"response\": \"\\ud83d lone\"}"), fffd + " lone");
  EXPECT_EQ(extract_whole("{\"response\": \"\\ude00\"}"), fffd);
  EXPECT_EQ(extract_whole("{\"response\": \"\xFF\xC3(\"}"), fffd + fffd + "(");
  EXPECT_EQ(extract_whole("{\"response\": \"\\q\"}"), "q");
  // Input that ends inside the value: what was there is flushed.
  EXPECT_EQ(extract_whole("{\"response\": \"cut \xE2\x98"), "cut " + fffd);
  EXPECT_EQ(extract_whole("{\"response\": \"cut \\u00"), "cut " + fffd);
}

// Whether `s` is valid UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      n = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1FU;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0FU;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07U;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3FU);
    }
    const std::uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

TEST(JsonFieldStream, RandomInputAlwaysGivesValidUtf8IndependentOfSplits) {
  std::mt19937 rng(1234);
  const std::string alphabet = "{}[]:,\"\\u0123456789abcdefDdresponse \xC3\xA9\xE2\x98\x83\xF0\xFF";
  for (int round = 0; round < 2000; ++round) {
    std::string input = "{\"response\":\"";
    const std::size_t len = rng() % 60;
    for (std::size_t i = 0; i < len; ++i) input += alphabet[rng() % alphabet.size()];
    const std::string whole = extract_whole(input);
    ASSERT_TRUE(valid_utf8(whole)) << input;
    ASSERT_EQ(extract_bytewise(input), whole) << input;
  }
}

}  // namespace
}  // namespace scribepod::mind
