// RecognitionStage over the real PocketSphinx recogniser: a due partial waits
// while newer audio is queued (and is not counted as dropped), covers all the
// audio received when it goes out, is skipped and counted when the session is
// far behind; a pause settles the recogniser and holds back the audio after
// it until speech resumes; the end gives one final.
#include "live/recognition_stage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "asr/pocketsphinx/pocketsphinx_recognizer.h"
#include "speech_samples.h"

namespace scribepod::live {
namespace {

namespace samples = asr::samples;
using Backlog = RecognitionStage::Backlog;

TEST(RecognitionStage, PartialsWaitForTheNewestAudioAndPausesSettle) {
  auto made = asr::make_pocketsphinx_recognizer(asr::pocketsphinx_default_params());
  ASSERT_TRUE(made.ok()) << made.error().message;
  std::shared_ptr<asr::Recognizer> recognizer(std::move(made).value());
  RecognitionStage stage(recognizer, RecognitionParams::default_params(), 1);
  const auto speech = samples::read_raw(samples::kPocketSphinxData / "goforward.raw").samples;
  ASSERT_GT(speech.size(), 16000U * 2);
  const auto at = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  RecognitionOutput out;
  const auto feed = [&](std::size_t samples) {
    const std::size_t n = std::min(samples, speech.size() - sent);
    stage.on_frame(
        AudioFrame{std::vector<float>(speech.begin() + static_cast<std::ptrdiff_t>(sent),
                                      speech.begin() + static_cast<std::ptrdiff_t>(sent + n))},
        at, out);
    sent += n;
  };

  stage.on_frame(SpeechStart{0}, at, out);
  // 1.6 s in 100 ms chunks, each with newer audio already queued behind it:
  // partials fall due (one per 250 ms) but wait.
  for (int i = 0; i < 16; ++i) {
    feed(1600);
    stage.flush_partial(Backlog::kNewerQueued, out);
  }
  EXPECT_TRUE(out.partials.empty());
  EXPECT_EQ(out.partials_skipped, 0);
  // Caught up: one partial, for everything received so far.
  stage.flush_partial(Backlog::kNone, out);
  ASSERT_EQ(out.partials.size(), 1U);
  EXPECT_EQ(out.partials[0].end_sample, static_cast<int64_t>(sent));
  EXPECT_FALSE(out.partials[0].text.empty());
  EXPECT_EQ(stage.latest_text(), out.partials[0].text);
  // Far behind: the next due partial is skipped, and counted.
  for (int i = 0; i < 3; ++i) feed(1600);
  stage.flush_partial(Backlog::kBehind, out);
  EXPECT_EQ(out.partials.size(), 1U);
  EXPECT_EQ(out.partials_skipped, 1);

  // The rest of the clip (its last 0.6 s are silence), a pause, the end.
  while (sent < speech.size()) feed(1600);
  stage.on_frame(SpeechPause{static_cast<int64_t>(sent)}, at, out);
  EXPECT_TRUE(out.errors.empty());
  SpeechEnd end;
  end.end_sample = static_cast<int64_t>(sent);
  end.speech_end_sample = end.end_sample - 16000 / 2;
  stage.on_frame(end, at, out);
  ASSERT_EQ(out.finals.size(), 1U);
  EXPECT_EQ(out.finals[0].text, "go forward ten meters");
  EXPECT_EQ(out.finals[0].utterance_id, out.partials[0].utterance_id);
  EXPECT_EQ(out.finals[0].partials_dropped, 1);
  EXPECT_TRUE(out.errors.empty());
  EXPECT_EQ(stage.pending(), 0U);
}

// The audio after a pause is held back: fed if speech comes back (nothing
// lost), dropped if the utterance ends first (the final does not wait for it
// to be searched). Speech stands in for the held silence here, so that
// feeding or dropping it shows in the final.
TEST(RecognitionStage, AudioAfterAPauseIsFedOnResumeAndDroppedAtTheEnd) {
  auto made = asr::make_pocketsphinx_recognizer(asr::pocketsphinx_default_params());
  ASSERT_TRUE(made.ok()) << made.error().message;
  std::shared_ptr<asr::Recognizer> recognizer(std::move(made).value());
  const auto go = samples::read_raw(samples::kPocketSphinxData / "goforward.raw").samples;
  const auto digits =
      samples::read_raw(samples::kPocketSphinxData / "tidigits/dhd.2934z.raw").samples;
  const auto at = std::chrono::steady_clock::now();
  const auto in_chunks = [&](RecognitionStage& stage, const std::vector<float>& audio,
                             RecognitionOutput& out) {
    for (std::size_t i = 0; i < audio.size(); i += 1600) {
      const auto n = static_cast<std::ptrdiff_t>(std::min<std::size_t>(1600, audio.size() - i));
      const auto from = audio.begin() + static_cast<std::ptrdiff_t>(i);
      stage.on_frame(AudioFrame{std::vector<float>(from, from + n)}, at, out);
    }
  };
  const auto run = [&](bool resume) {
    RecognitionStage stage(recognizer, RecognitionParams::default_params(), 1);
    RecognitionOutput out;
    stage.on_frame(SpeechStart{0}, at, out);
    in_chunks(stage, go, out);
    const auto paused_at = static_cast<int64_t>(go.size());
    stage.on_frame(SpeechPause{paused_at}, at, out);
    in_chunks(stage, digits, out);
    if (resume)
      stage.on_frame(SpeechResume{paused_at + static_cast<int64_t>(digits.size())}, at, out);
    SpeechEnd end;
    end.end_sample = paused_at + static_cast<int64_t>(digits.size());
    end.speech_end_sample = end.end_sample;
    stage.on_frame(end, at, out);
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(out.finals.size(), 1U);
    return out.finals.empty() ? std::string() : out.finals[0].text;
  };
  EXPECT_EQ(run(/*resume=*/true), "go forward ten meters two nine three four zero");
  EXPECT_EQ(run(/*resume=*/false), "go forward ten meters");
}

}  // namespace
}  // namespace scribepod::live
