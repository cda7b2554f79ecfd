#include "live/utterance_segmenter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <random>

#include "speech_samples.h"

namespace scribepod::live {
namespace {

using namespace std::chrono_literals;
namespace samples = asr::samples;

std::vector<float> silence(double seconds) {
  return std::vector<float>(static_cast<std::size_t>(seconds * 16000), 0.0F);
}

void append(std::vector<float>& a, const std::vector<float>& b) {
  a.insert(a.end(), b.begin(), b.end());
}

struct Utterance {
  int64_t start = 0;
  SpeechEnd end;
  std::vector<float> audio;
  std::vector<int64_t> pauses;   // SpeechPause::at_sample, in order
  std::vector<int64_t> resumes;  // SpeechResume::at_sample, in order
};

// Streams `audio` in 100 ms chunks and collects the utterances, checking the
// frame grammar (start, audio..., end) on the way.
std::vector<Utterance> segment(UtteranceSegmenter& seg, const std::vector<float>& audio,
                               bool close_at_end = false) {
  std::vector<Utterance> out;
  bool open = false;
  auto take = [&](std::vector<SegmentFrame> frames) {
    for (auto& f : frames) {
      if (auto* s = std::get_if<SpeechStart>(&f)) {
        EXPECT_FALSE(open);
        open = true;
        out.push_back({s->start_sample, {}, {}, {}, {}});
      } else if (auto* a = std::get_if<AudioFrame>(&f)) {
        EXPECT_TRUE(open);
        append(out.back().audio, a->samples);
      } else if (auto* p = std::get_if<SpeechPause>(&f)) {
        EXPECT_TRUE(open);
        // After all the audio up to it.
        EXPECT_EQ(p->at_sample, out.back().start + static_cast<int64_t>(out.back().audio.size()));
        out.back().pauses.push_back(p->at_sample);
      } else if (auto* r = std::get_if<SpeechResume>(&f)) {
        EXPECT_TRUE(open);
        // Once per pause, after it, before the audio that holds the speech.
        EXPECT_EQ(out.back().resumes.size() + 1, out.back().pauses.size());
        EXPECT_EQ(r->at_sample, out.back().start + static_cast<int64_t>(out.back().audio.size()));
        out.back().resumes.push_back(r->at_sample);
      } else {
        EXPECT_TRUE(open);
        open = false;
        out.back().end = std::get<SpeechEnd>(f);
      }
    }
  };
  for (std::size_t i = 0; i < audio.size(); i += 1600) {
    const std::size_t n = std::min<std::size_t>(1600, audio.size() - i);
    take(seg.process(std::span<const float>(audio).subspan(i, n)));
  }
  if (close_at_end) take(seg.close(EndReason::kStop));
  EXPECT_FALSE(open) << "an utterance was left open";
  return out;
}

UtteranceSegmenter make(SegmenterParams p = SegmenterParams::default_params()) {
  auto s = UtteranceSegmenter::create(p);
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

TEST(RequiredSilence, AdaptsToTheLatestText) {
  SegmenterParams p;
  EXPECT_EQ(required_silence("", p), 500ms);
  EXPECT_EQ(required_silence("go forward ten meters", p), 500ms);
  EXPECT_EQ(required_silence("Is that right? ", p), 300ms);
  EXPECT_EQ(required_silence("we went there and", p), 1200ms);
  EXPECT_EQ(required_silence("I think, um", p), 1200ms);
  EXPECT_EQ(required_silence("Because,", p), 1200ms);
  EXPECT_EQ(required_silence("a sandwich", p), 500ms);
}

TEST(UtteranceSegmenter, SilenceAndNoiseMakeNoUtterance) {
  auto seg = make();
  std::vector<float> audio = silence(2);
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0F, 0.03F);
  for (int i = 0; i < 3 * 16000; ++i) audio.push_back(noise(rng));
  append(audio, silence(1));
  EXPECT_TRUE(segment(seg, audio).empty());
}

TEST(UtteranceSegmenter, OneUtteranceWithPrerollAndTheEndpointWait) {
  auto speech = samples::read_raw(samples::kPocketSphinxData / "goforward.raw").samples;
  ASSERT_FALSE(speech.empty());
  std::vector<float> audio = silence(1);
  append(audio, speech);
  append(audio, silence(1.5));
  auto seg = make();
  auto utts = segment(seg, audio);
  ASSERT_EQ(utts.size(), 1U);
  const Utterance& u = utts[0];
  EXPECT_EQ(u.end.reason, EndReason::kSilence);
  EXPECT_NEAR(u.end.endpoint_wait_ms, 500, 10);
  // The audio is exactly the stream's samples from the start to the end.
  ASSERT_EQ(static_cast<int64_t>(u.audio.size()), u.end.end_sample - u.start);
  for (std::size_t i = 0; i < u.audio.size(); i += 997) {
    ASSERT_EQ(u.audio[i], audio[static_cast<std::size_t>(u.start) + i]);
  }
  EXPECT_LE(u.start, 16000 + 16000 / 2);  // opens near the speech, with pre-roll
  EXPECT_GE(u.end.end_sample - u.end.speech_end_sample, 500 * 16 - 160);
}

TEST(UtteranceSegmenter, APauseInsideTheUtteranceIsSentOncePerSilence) {
  auto clip = samples::read_raw(samples::kPocketSphinxData / "goforward.raw").samples;
  ASSERT_GT(clip.size(), 16000U * 23 / 10);
  // The speech of the clip (0.45-2.25 s; it has 0.5 s of silence before
  // and 0.6 s after), twice, with 150 ms of silence between: a pause of
  // about 350 ms, past pause_silence and short of the endpoint.
  const std::vector<float> speech(clip.begin() + 16000 * 45 / 100,
                                  clip.begin() + 16000 * 225 / 100);
  std::vector<float> audio = silence(1);
  append(audio, speech);
  append(audio, silence(0.15));
  const auto second_start = static_cast<int64_t>(audio.size());
  append(audio, speech);
  append(audio, silence(1.5));
  auto seg = make();
  auto utts = segment(seg, audio);
  ASSERT_EQ(utts.size(), 1U);
  const Utterance& u = utts[0];
  // One pause in the gap between the two, and one in the final silence
  // before the endpoint: each 200 ms after the last active speech frame.
  ASSERT_EQ(u.pauses.size(), 2U);
  EXPECT_GT(u.pauses[0], 16000 + static_cast<int64_t>(speech.size()) / 2);
  EXPECT_LT(u.pauses[0], second_start + 16000 / 10);
  // Speech comes back once, with the second copy (the VAD commits to it
  // within its first 200 ms); the final silence has none.
  ASSERT_EQ(u.resumes.size(), 1U);
  EXPECT_GT(u.resumes[0], u.pauses[0]);
  EXPECT_GE(u.resumes[0], second_start);
  EXPECT_LT(u.resumes[0], second_start + 16000 / 5);
  EXPECT_NEAR(static_cast<double>(u.end.speech_end_sample + 200 * 16),
              static_cast<double>(u.pauses[1]), 161);
  EXPECT_LT(u.pauses[1], u.end.end_sample);
}

TEST(UtteranceSegmenter, PauseSilenceZeroSendsNoPause) {
  auto speech = samples::read_raw(samples::kPocketSphinxData / "goforward.raw").samples;
  std::vector<float> audio = silence(1);
  append(audio, speech);
  append(audio, silence(1.5));
  SegmenterParams p;
  p.pause_silence = std::chrono::milliseconds(0);
  auto seg = UtteranceSegmenter::create(p);
  ASSERT_TRUE(seg.ok());
  auto utts = segment(*seg, audio);
  ASSERT_EQ(utts.size(), 1U);
  EXPECT_TRUE(utts[0].pauses.empty());
  // A pause as long as an endpoint is refused.
  p.pause_silence = p.endpoint_min_silence;
  EXPECT_EQ(UtteranceSegmenter::create(p).error().code, ErrorCode::kInvalidConfig);
}

TEST(UtteranceSegmenter, TrailingConjunctionWaitsLonger) {
  auto speech = samples::read_raw(samples::kPocketSphinxData / "goforward.raw").samples;
  std::vector<float> audio = silence(1);
  append(audio, speech);
  append(audio, silence(2));
  auto seg = make();
  std::vector<SpeechEnd> ends;
  for (std::size_t i = 0; i < audio.size(); i += 1600) {
    const std::size_t n = std::min<std::size_t>(1600, audio.size() - i);
    for (auto& f : seg.process(std::span<const float>(audio).subspan(i, n))) {
      if (std::holds_alternative<SpeechStart>(f)) seg.set_latest_text("go forward and");
      if (auto* e = std::get_if<SpeechEnd>(&f)) ends.push_back(*e);
    }
  }
  ASSERT_EQ(ends.size(), 1U);
  EXPECT_NEAR(ends[0].endpoint_wait_ms, 1200, 10);
}

TEST(UtteranceSegmenter, CloseEndsTheOpenUtteranceWithEverySample) {
  auto speech = samples::read_raw(samples::kPocketSphinxData / "goforward.raw").samples;
  speech.resize(16000 * 3 / 2);  // cut in the middle of the words
  std::vector<float> audio = silence(0.5);
  append(audio, speech);
  auto seg = make();
  auto utts = segment(seg, audio, /*close_at_end=*/true);
  ASSERT_EQ(utts.size(), 1U);
  EXPECT_EQ(utts[0].end.reason, EndReason::kStop);
  EXPECT_EQ(utts[0].end.end_sample, static_cast<int64_t>(audio.size()));
  EXPECT_EQ(static_cast<int64_t>(utts[0].audio.size()), utts[0].end.end_sample - utts[0].start);
}

// A forced split must neither lose nor repeat a sample: the utterances'
// audio, concatenated, is exactly the stream from the first start to the
// last end wherever they are contiguous (split), and each is at most
// max_utterance long.
TEST(UtteranceSegmenter, ForcedSplitKeepsEverySampleOnce) {
  samples::TempDir dir;
  auto jfk = samples::jfk(dir).samples;
  ASSERT_GT(jfk.size(), 16000U * 10);
  std::vector<float> audio = silence(0.5);
  append(audio, jfk);
  append(audio, silence(1.5));
  SegmenterParams p;
  p.max_utterance = 1500ms;
  auto seg = make(p);
  auto utts = segment(seg, audio);
  ASSERT_GE(utts.size(), 3U);
  int splits = 0;
  for (std::size_t i = 0; i < utts.size(); ++i) {
    const Utterance& u = utts[i];
    const int64_t len = u.end.end_sample - u.start;
    EXPECT_LE(len, 1500 * 16);
    ASSERT_EQ(static_cast<int64_t>(u.audio.size()), len);
    for (std::size_t k = 0; k < u.audio.size(); ++k) {
      ASSERT_EQ(u.audio[k], audio[static_cast<std::size_t>(u.start) + k]) << "utterance " << i;
    }
    std::cout << "utterance " << i << " " << u.start / 16 << ".." << u.end.end_sample / 16 << " ms "
              << end_reason_name(u.end.reason) << "\n";
    if (u.end.reason == EndReason::kMaxLength) {
      ++splits;
      ASSERT_LT(i + 1, utts.size());
      EXPECT_EQ(utts[i + 1].start, u.end.end_sample) << "the next utterance starts at the cut";
      EXPECT_GE(len, 1500 * 16 / 2) << "cut inside the split window";
    } else if (i + 1 < utts.size()) {
      EXPECT_GE(utts[i + 1].start, u.end.end_sample) << "no overlap";
    }
  }
  EXPECT_GE(splits, 1);
}

}  // namespace
}  // namespace scribepod::live
