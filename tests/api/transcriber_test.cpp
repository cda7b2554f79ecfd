// The batch path end to end with the real PocketSphinx engine: bytes in any
// container, the voice-activity gate, region splitting for long audio.
#include "asr/transcriber.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "asr/pocketsphinx/pocketsphinx_recognizer.h"
#include "asr/wer.h"

namespace scribepod::asr {
namespace {

const char* kGoForward = "/usr/share/pocketsphinx/test/data/goforward.raw";

// Test double that counts calls into the real recogniser it wraps, so a test
// can prove the gate kept silence away from the engine.
class CountingRecognizer final : public Recognizer {
 public:
  explicit CountingRecognizer(std::unique_ptr<Recognizer> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return inner_->name(); }
  std::string describe() const override { return inner_->describe(); }
  Result<Transcript> transcribe(const audio::PcmAudio& a, const TranscribeOptions& o) override {
    ++calls;
    return inner_->transcribe(a, o);
  }
  Result<std::unique_ptr<RecognizerStream>> open_stream(const TranscribeOptions& o) override {
    return inner_->open_stream(o);
  }
  std::atomic<int> calls{0};

 private:
  std::unique_ptr<Recognizer> inner_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream b;
  b << in.rdbuf();
  return std::move(b).str();
}

audio::PcmAudio raw_pcm16(const std::string& bytes) {
  audio::PcmAudio pcm;
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
    const auto lo = static_cast<unsigned char>(bytes[i]);
    const auto hi = static_cast<unsigned char>(bytes[i + 1]);
    const auto v = static_cast<std::int16_t>(static_cast<std::uint16_t>(lo | (hi << 8)));
    pcm.samples.push_back(static_cast<float>(v) / 32768.0F);
  }
  return pcm;
}

class TranscriberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kGoForward)) GTEST_SKIP() << "pocketsphinx-testdata not installed";
    auto r = make_pocketsphinx_recognizer(pocketsphinx_default_params());
    ASSERT_TRUE(r.ok()) << r.error().message;
    counting_ = std::make_shared<CountingRecognizer>(std::move(r).value());
  }
  std::shared_ptr<CountingRecognizer> counting_;
};

TEST_F(TranscriberTest, DeclaredRawPcmIsRecognised) {
  Transcriber t(counting_, {});
  const std::string bytes = slurp(kGoForward);
  auto res = t.transcribe_bytes(bytes, "audio/pcm; rate=16000", {});
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->text, "go forward ten meters");
  EXPECT_EQ(res->engine, "pocketsphinx");
  EXPECT_NEAR(res->audio_s, static_cast<double>(bytes.size()) / 2 / audio::kSampleRate, 1e-3);
  EXPECT_GT(res->decode_ms, 0);
}

TEST_F(TranscriberTest, SilenceAndNoiseNeverReachTheEngine) {
  Transcriber t(counting_, {});
  audio::PcmAudio silence;
  silence.samples.assign(3 * audio::kSampleRate, 0.0F);
  auto a = t.transcribe_pcm(silence, {});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->text, "");
  audio::PcmAudio noise;
  std::uint32_t state = 12345;
  for (int i = 0; i < 3 * audio::kSampleRate; ++i) {
    state = state * 1664525u + 1013904223u;
    noise.samples.push_back((static_cast<float>(state >> 8) / 16777216.0F - 0.5F) * 0.2F);
  }
  auto b = t.transcribe_pcm(noise, {});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text, "");
  EXPECT_EQ(counting_->calls.load(), 0);
}

TEST_F(TranscriberTest, LongAudioIsSplitAtSpeechWithShiftedTimestamps) {
  // goforward, 20 s of silence, goforward again: 27 s > split threshold of 10 s.
  const auto speech = raw_pcm16(slurp(kGoForward));
  audio::PcmAudio long_audio = speech;
  long_audio.samples.insert(long_audio.samples.end(), 20 * audio::kSampleRate, 0.0F);
  long_audio.samples.insert(long_audio.samples.end(), speech.samples.begin(), speech.samples.end());
  TranscriberOptions opts;
  opts.split_above_s = 10;
  Transcriber t(counting_, opts);
  std::vector<double> progress;
  auto res =
      t.transcribe_pcm(long_audio, {}, [&](double done, double) { progress.push_back(done); });
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->text, "go forward ten meters go forward ten meters");
  EXPECT_EQ(counting_->calls.load(), 2);
  ASSERT_GE(res->segments.size(), 2u);
  EXPECT_GT(res->segments.back().start_s, speech.duration_s() + 19.0);
  for (std::size_t i = 1; i < res->segments.size(); ++i) {
    EXPECT_GE(res->segments[i].start_s, res->segments[i - 1].start_s);
  }
  ASSERT_FALSE(progress.empty());
  EXPECT_DOUBLE_EQ(progress.back(), long_audio.duration_s());
}

TEST_F(TranscriberTest, UndecodableBytesAreTheClientsError) {
  Transcriber t(counting_, {});
  auto res = t.transcribe_bytes("definitely not audio", "", {});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::kUnsupportedMediaType);
}

}  // namespace
}  // namespace scribepod::asr
