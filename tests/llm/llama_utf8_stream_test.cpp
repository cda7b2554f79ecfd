// Utf8Stream never splits a character across streamed pieces.
#include <gtest/gtest.h>

#include "llm/llama/utf8_stream.h"

namespace scribepod::llm {
namespace {

TEST(Utf8StreamTest, AsciiPassesStraightThrough) {
  Utf8Stream s;
  EXPECT_EQ(s.push("hello"), "hello");
  EXPECT_EQ(s.finish(), "");
}

TEST(Utf8StreamTest, HoldsBackAnUnfinishedCharacter) {
  Utf8Stream s;
  // "é✓" = C3 A9 E2 9C 93, fed one byte at a time as byte tokens would be.
  EXPECT_EQ(s.push("a\xC3"), "a");
  EXPECT_EQ(s.push("\xA9"), "\xC3\xA9");
  EXPECT_EQ(s.push("\xE2"), "");
  EXPECT_EQ(s.push("\x9C"), "");
  EXPECT_EQ(s.push("\x93!"), "\xE2\x9C\x93!");
}

TEST(Utf8StreamTest, FinishReplacesAnUnfinishedCharacter) {
  Utf8Stream s;
  EXPECT_EQ(s.push("x\xF0\x9F"), "x");
  EXPECT_EQ(s.finish(), "\xEF\xBF\xBD");
  EXPECT_EQ(s.finish(), "");
}

// Each invalid sequence becomes one U+FFFD, counted as llama.cpp's grammar
// counts code points, so the output stays valid UTF-8 of the same length.
TEST(Utf8StreamTest, InvalidSequencesBecomeOneReplacementEach) {
  const std::string r = "\xEF\xBF\xBD";
  Utf8Stream s;
  EXPECT_EQ(s.push("\x80"
                   "z"),
            r + "z");  // stray continuation
  EXPECT_EQ(s.push("\xF8\x80\x80\x80"
                   "a"),
            r + "a");  // F8 lead
  EXPECT_EQ(s.push("\xE0\x80\x81"
                   "b"),
            r + "b");  // overlong
  EXPECT_EQ(s.push("\xED\xA0\x80"
                   "c"),
            r + "c");  // surrogate
  EXPECT_EQ(s.push("\xC3"
                   "d"),
            r + "d");                                         // cut short
  EXPECT_EQ(s.push("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");  // a real emoji
}

}  // namespace
}  // namespace scribepod::llm
