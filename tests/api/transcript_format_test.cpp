#include "api/transcript_format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace scribepod::api {
namespace {

asr::Transcript sample() {
  asr::Transcript t;
  t.text = "go forward ten meters";
  t.language = "en";
  t.engine = "pocketsphinx";
  t.audio_s = 3.5;
  t.segments.push_back(
      {"go forward", 0.25, 1.5, {{"go", 0.25, 0.5, 0.9F}, {"forward", 0.5, 1.5, 0.8F}}});
  t.segments.push_back({"ten meters", 3661.0, 3662.0005, {}});
  return t;
}

TEST(TranscriptFormatTest, ParsesNames) {
  EXPECT_EQ(parse_transcript_format("srt"), TranscriptFormat::kSrt);
  EXPECT_EQ(parse_transcript_format("verbose_json"), TranscriptFormat::kVerboseJson);
  EXPECT_FALSE(parse_transcript_format("xml").has_value());
  EXPECT_FALSE(parse_transcript_format("").has_value());
}

TEST(TranscriptFormatTest, SubtitleTimestamps) {
  EXPECT_EQ(subtitle_timestamp(0, ','), "00:00:00,000");
  EXPECT_EQ(subtitle_timestamp(3661.0005, '.'), "01:01:01.001");
  EXPECT_EQ(subtitle_timestamp(-1, ','), "00:00:00,000");
}

TEST(TranscriptFormatTest, Srt) {
  EXPECT_EQ(render_transcript(sample(), TranscriptFormat::kSrt),
            "1\n00:00:00,250 --> 00:00:01,500\ngo forward\n\n"
            "2\n01:01:01,000 --> 01:01:02,001\nten meters\n\n");
}

TEST(TranscriptFormatTest, Vtt) {
  EXPECT_EQ(render_transcript(sample(), TranscriptFormat::kVtt),
            "WEBVTT\n\n00:00:00.250 --> 00:00:01.500\ngo forward\n\n"
            "01:01:01.000 --> 01:01:02.001\nten meters\n\n");
}

TEST(TranscriptFormatTest, JsonAndVerboseJson) {
  EXPECT_EQ(nlohmann::json::parse(render_transcript(sample(), TranscriptFormat::kJson)),
            nlohmann::json({{"text", "go forward ten meters"}}));
  const auto v = nlohmann::json::parse(render_transcript(sample(), TranscriptFormat::kVerboseJson));
  EXPECT_EQ(v["language"], "en");
  EXPECT_DOUBLE_EQ(v["duration"].get<double>(), 3.5);
  ASSERT_EQ(v["segments"].size(), 2u);
  EXPECT_EQ(v["segments"][1]["id"], 1);
  EXPECT_EQ(v["words"].size(), 2u);
  EXPECT_EQ(v["words"][1]["word"], "forward");
}

TEST(TranscriptFormatTest, TextEndsWithNewlineAndEmptyTranscriptIsEmpty) {
  EXPECT_EQ(render_transcript(sample(), TranscriptFormat::kText), "go forward ten meters\n");
  asr::Transcript empty;
  EXPECT_EQ(render_transcript(empty, TranscriptFormat::kText), "\n");
  EXPECT_EQ(render_transcript(empty, TranscriptFormat::kSrt), "");
}

}  // namespace
}  // namespace scribepod::api
