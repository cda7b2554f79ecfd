// The segment filter on its own: text clean-up and the silence guard's rules.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "asr/whisper/segment_filter.h"

namespace scribepod::asr {
namespace {

TEST(WhisperSegmentFilter, CleansText) {
  EXPECT_EQ(clean_text("  Hello world. \n"), "Hello world.");
  EXPECT_EQ(clean_text("caf\xC3"), "caf\xEF\xBF\xBD");            // a character cut in half
  EXPECT_EQ(clean_text("\xE2\x82\xAC 5"), "\xE2\x82\xAC 5");      // a whole one is kept
  EXPECT_EQ(clean_text("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(clean_text("   "), "");
}

TEST(WhisperSegmentFilter, RecognisesNonSpeechAndHallucinations) {
  for (const char* t : {"[BLANK_AUDIO]", "(upbeat music)", "*sighs*", "\xE2\x99\xAA", "...", "",
                        "[Music] (applause)"}) {
    EXPECT_TRUE(is_non_speech_text(t)) << t;
  }
  EXPECT_FALSE(is_non_speech_text("[laughs] yes"));
  for (const char* t : {"Thank you.", "Thanks for watching!", " you",
                        "Subtitles by the Amara.org community", "THANK YOU SO MUCH"}) {
    EXPECT_TRUE(is_silence_hallucination(t)) << t;
  }
  EXPECT_FALSE(is_silence_hallucination("Thank you for the directions to the station."));
  EXPECT_FALSE(is_silence_hallucination("go forward ten meters"));
}

TEST(WhisperSegmentFilter, DropsOnlyWithEvidence) {
  const SegmentFilterParams p;
  const float nan = std::nanf("");
  EXPECT_FALSE(should_drop_segment({"go forward", 0.01F, -0.3F, -25.0F}, p));
  EXPECT_TRUE(should_drop_segment({"go forward", 0.9F, -1.5F, -25.0F}, p));    // OpenAI's rule
  EXPECT_FALSE(should_drop_segment({"go forward", 0.9F, -0.2F, -25.0F}, p));   // confident
  EXPECT_FALSE(should_drop_segment({"go forward", nan, nan, -70.0F}, p));      // unknown: kept
  EXPECT_FALSE(should_drop_segment({"Thank you.", 0.05F, -0.3F, -25.0F}, p));  // said it, loudly
  EXPECT_TRUE(should_drop_segment({"Thank you.", 0.4F, -0.3F, -25.0F}, p));
  EXPECT_TRUE(should_drop_segment({"Thank you.", 0.05F, -0.3F, -50.0F}, p));  // over near-silence
  EXPECT_TRUE(should_drop_segment({"[BLANK_AUDIO]", 0.0F, 0.0F, -20.0F}, p));
  EXPECT_FLOAT_EQ(rms_dbfs(nullptr, 0), -120.0F);
  const std::vector<float> half(100, 0.5F);
  EXPECT_NEAR(rms_dbfs(half.data(), half.size()), -6.02F, 0.01F);
}

}  // namespace
}  // namespace scribepod::asr
