// VoiceActivityDetector tests on real data: generated silence and stationary
// noise (white, pink, brown; fixed-seed generator), recorded human speech
// (pocketsphinx-testdata, the JFK sample), flite speech synthesised at test
// time, and speech mixed with noise. "Truth" for speech is energy-based: the
// frames well above a recording's own background.
#include "audio/vad.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

namespace scribepod::audio {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kFrame = kVadFrameSamples;
constexpr double kFrameS = 0.01;
const fs::path kTestData = "/usr/share/pocketsphinx/test/data";

std::vector<char> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<float> s16_to_float(const char* data, std::size_t bytes) {
  std::vector<float> out(bytes / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::int16_t v = 0;
    std::memcpy(&v, data + 2 * i, 2);
    out[i] = static_cast<float>(v) / 32768.0F;
  }
  return out;
}

std::vector<float> read_raw(const fs::path& path) {
  const std::vector<char> bytes = read_bytes(path);
  return s16_to_float(bytes.data(), bytes.size());
}

// A minimal RIFF reader for the 16 kHz mono PCM16 files used here.
std::vector<float> read_wav(const fs::path& path) {
  const std::vector<char> b = read_bytes(path);
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    std::memcpy(&v, b.data() + at, 4);
    return v;
  };
  if (b.size() < 12 || std::memcmp(b.data(), "RIFF", 4) != 0 ||
      std::memcmp(b.data() + 8, "WAVE", 4) != 0) {
    ADD_FAILURE() << path << " is not a WAV file";
    return {};
  }
  for (std::size_t at = 12; at + 8 <= b.size();) {
    const std::uint32_t size = u32(at + 4);
    if (std::memcmp(b.data() + at, "fmt ", 4) == 0 && size >= 16 && at + 24 <= b.size()) {
      std::uint16_t format = 0, channels = 0, bits = 0;
      std::memcpy(&format, b.data() + at + 8, 2);
      std::memcpy(&channels, b.data() + at + 10, 2);
      std::memcpy(&bits, b.data() + at + 22, 2);
      EXPECT_TRUE(format == 1 && channels == 1 && bits == 16 && u32(at + 12) == 16000)
          << path << " is not 16 kHz mono PCM16";
    } else if (std::memcmp(b.data() + at, "data", 4) == 0) {
      const std::size_t n = std::min<std::size_t>(size, b.size() - at - 8);
      return s16_to_float(b.data() + at + 8, n);
    }
    at += 8 + size + (size & 1U);
  }
  ADD_FAILURE() << path << " has no data chunk";
  return {};
}

// One scratch directory per test process for generated fixtures.
const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("scribepod_vad_test_" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

struct ScratchCleanup : testing::Environment {
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(scratch_dir(), ec);
  }
};
// gtest takes ownership of the environment.
[[maybe_unused]] testing::Environment* const kCleanup =
    testing::AddGlobalTestEnvironment(new ScratchCleanup);

int run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()); }

// flite's CMU voices, converted by ffmpeg to 16 kHz s16le (independently of
// our Resampler, which has its own tests).
std::vector<float> flite_speech(const std::string& voice, const std::string& text) {
  const fs::path wav = scratch_dir() / ("flite_" + voice + ".wav");
  const fs::path raw = scratch_dir() / ("flite_" + voice + ".raw");
  if (!fs::exists(raw)) {
    EXPECT_EQ(run("flite -voice " + voice + " -t '" + text + "' -o " + wav.string()), 0)
        << "flite (apt: flite) must be installed";
    EXPECT_EQ(run("ffmpeg -nostdin -v error -y -i " + wav.string() + " -ac 1 -ar 16000 -f s16le " +
                  raw.string()),
              0)
        << "ffmpeg (apt: ffmpeg) must be installed";
  }
  return read_raw(raw);
}

std::vector<float> jfk() {
  const fs::path wav = scratch_dir() / "package/cpp/whisper.cpp/bindings/go/samples/jfk.wav";
  if (!fs::exists(wav)) {
    // The nodejs-whisper npm package, whatever its version.
    const char* home = std::getenv("HOME");
    const fs::path downloads = fs::path(home ? home : "/root") / ".cache/scribepod/downloads";
    fs::path tarball;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(downloads, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.starts_with("nodejs-whisper-") && name.ends_with(".tgz")) tarball = entry.path();
    }
    EXPECT_FALSE(tarball.empty()) << "no nodejs-whisper-*.tgz in " << downloads;
    EXPECT_EQ(run("tar -xzf " + tarball.string() + " -C " + scratch_dir().string() +
                  " package/cpp/whisper.cpp/bindings/go/samples/jfk.wav"),
              0);
  }
  return read_wav(wav);
}

struct Clip {
  std::string name;
  std::vector<float> samples;
};

std::vector<Clip> recorded_speech() {
  std::vector<Clip> clips;
  clips.push_back({"goforward", read_raw(kTestData / "goforward.raw")});
  clips.push_back({"tidigits", read_raw(kTestData / "tidigits/dhd.2934z.raw")});
  for (int i = 1; i <= 5; ++i) {
    const std::string name = "cards/00" + std::to_string(i) + ".wav";
    clips.push_back({name, read_wav(kTestData / name)});
  }
  for (const char* id : {"0870", "0880", "0890", "0920", "0930"}) {
    const std::string name = std::string("librivox/sense_and_sensibility_01_austen_64kb-") + id;
    clips.push_back({name, read_wav(kTestData / (name + ".wav"))});
  }
  clips.push_back({"jfk", jfk()});
  return clips;
}

std::vector<Clip> flite_clips() {
  const std::string text =
      "Please remember to buy milk and bread on the way home. The meeting moved to Thursday.";
  return {{"flite slt", flite_speech("slt", text)},
          {"flite rms", flite_speech("rms", text)},
          {"flite awb", flite_speech("awb", text)}};
}

// Stationary noise from a fixed-seed generator. mt19937's output is fixed by
// the standard; the Gaussian is our own Box-Muller so no library's
// distribution code can change the samples.
enum class Color { kWhite, kPink, kBrown };

std::vector<float> noise(Color color, double seconds, double level_dbfs, std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto uniform = [&] { return (static_cast<double>(rng()) + 0.5) / 4294967296.0; };
  const std::size_t n = static_cast<std::size_t>(seconds * 16000);
  std::vector<double> x(n);
  // Pink: Paul Kellet's filter bank (within 0.05 dB of 1/f above 9 Hz).
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, brown = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w =
        std::sqrt(-2.0 * std::log(uniform())) * std::cos(2.0 * std::numbers::pi * uniform());
    switch (color) {
      case Color::kWhite:
        x[i] = w;
        break;
      case Color::kPink:
        b0 = 0.99886 * b0 + w * 0.0555179;
        b1 = 0.99332 * b1 + w * 0.0750759;
        b2 = 0.96900 * b2 + w * 0.1538520;
        b3 = 0.86650 * b3 + w * 0.3104856;
        b4 = 0.55000 * b4 + w * 0.5329522;
        b5 = -0.7616 * b5 - w * 0.0168980;
        x[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
        b6 = w * 0.115926;
        break;
      case Color::kBrown:
        brown = 0.998 * brown + w;  // a leaky integrator: 1/f^2 above 5 Hz
        x[i] = brown;
        break;
    }
  }
  double power = 0;
  for (double v : x) power += v * v;
  const double gain = std::pow(10.0, level_dbfs / 20.0) / std::sqrt(power / static_cast<double>(n));
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(x[i] * gain);
  return out;
}

const char* color_name(Color c) {
  return c == Color::kWhite ? "white" : c == Color::kPink ? "pink" : "brown";
}

// Energy truth: frames at least 15 dB above the recording's own background
// (its 10th-percentile frame energy) and above -50 dBFS, measured after a
// first-order 100 Hz high-pass (DC and rumble are not speech), independently
// of the detector.
std::vector<bool> energy_truth(const std::vector<float>& x) {
  const double r = std::exp(-2.0 * std::numbers::pi * 100.0 / 16000.0);
  double prev_x = 0, prev_y = 0;
  std::vector<double> db;
  double p = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double y = static_cast<double>(x[i]) - prev_x + r * prev_y;
    prev_x = static_cast<double>(x[i]);
    prev_y = y;
    p += y * y;
    if ((i + 1) % kFrame == 0) {
      db.push_back(10.0 * std::log10(p / kFrame + 1e-12));
      p = 0;
    }
  }
  std::vector<double> sorted = db;
  std::sort(sorted.begin(), sorted.end());
  const double threshold = std::max(sorted[sorted.size() / 10] + 15.0, -50.0);
  std::vector<bool> truth;
  for (double d : db) truth.push_back(d >= threshold);
  return truth;
}

std::vector<VadFrame> run_vad(std::span<const float> x, const VadOptions& options = {}) {
  auto vad = VoiceActivityDetector::create(options);
  EXPECT_TRUE(vad.ok());
  return vad->process(x);
}

// What a live consumer with pre-roll sees: the streaming decisions, plus the
// frames from each utterance's speech_onset_frame() up to where the detector
// committed to it.
std::vector<bool> flagged_with_onsets(std::span<const float> x,
                                      std::vector<bool>* streamed = nullptr) {
  auto vad = VoiceActivityDetector::create();
  EXPECT_TRUE(vad.ok());
  std::vector<bool> flagged;
  bool was_speech = false;
  for (std::size_t pos = 0; pos + kFrame <= x.size(); pos += kFrame) {
    for (const VadFrame& f : vad->process(x.subspan(pos, kFrame))) {
      flagged.push_back(f.speech);
      if (streamed != nullptr) streamed->push_back(f.speech);
      if (f.speech && !was_speech) {
        for (auto i = vad->speech_onset_frame(); i < f.index; ++i) {
          flagged[static_cast<std::size_t>(i)] = true;
        }
      }
      was_speech = f.speech;
    }
  }
  return flagged;
}

double speech_fraction(const std::vector<VadFrame>& frames) {
  const auto n =
      std::count_if(frames.begin(), frames.end(), [](const VadFrame& f) { return f.speech; });
  return frames.empty() ? 0.0 : static_cast<double>(n) / static_cast<double>(frames.size());
}

struct Detection {
  std::size_t truth = 0;
  std::size_t hit = 0;
  double rate() const {
    return truth == 0 ? 0.0 : static_cast<double>(hit) / static_cast<double>(truth);
  }
};

// Share of truth frames (offset by `lead_frames`) flagged as speech.
Detection detection(const std::vector<bool>& truth, const std::vector<bool>& flagged,
                    std::size_t lead_frames = 0) {
  Detection d;
  for (std::size_t i = 0; i < truth.size() && i + lead_frames < flagged.size(); ++i) {
    if (!truth[i]) continue;
    ++d.truth;
    if (flagged[i + lead_frames]) ++d.hit;
  }
  return d;
}

TEST(VoiceActivityDetector, DigitalSilenceHasNoSpeech) {
  const std::vector<float> silence(16000 * 5, 0.0F);
  const std::vector<VadFrame> frames = run_vad(silence);
  ASSERT_EQ(frames.size(), 500U);
  for (const VadFrame& f : frames) {
    EXPECT_FALSE(f.speech);
    EXPECT_EQ(f.energy_db, -120.0F);
  }
  auto any = has_speech(PcmAudio{silence});
  ASSERT_TRUE(any.ok());
  EXPECT_FALSE(*any);
}

TEST(VoiceActivityDetector, StationaryNoiseIsRejected) {
  std::uint32_t seed = 1;
  for (Color color : {Color::kWhite, Color::kPink, Color::kBrown}) {
    for (double level : {-50.0, -35.0, -20.0, -10.0}) {
      SCOPED_TRACE(testing::Message() << color_name(color) << " noise at " << level << " dBFS");
      const std::vector<float> x = noise(color, 10.0, level, seed++);
      EXPECT_LT(speech_fraction(run_vad(x)), 0.02);
      auto regions = speech_regions(PcmAudio{x});
      ASSERT_TRUE(regions.ok());
      EXPECT_TRUE(regions->empty());
    }
  }
}

// The energy gate cannot help when noise starts after digital silence (there
// is no floor yet): the periodicity and WebRTC checks must hold on their own.
TEST(VoiceActivityDetector, NoiseStartingAfterSilenceIsRejected) {
  for (Color color : {Color::kWhite, Color::kPink, Color::kBrown}) {
    SCOPED_TRACE(color_name(color));
    std::vector<float> x(32000, 0.0F);
    const std::vector<float> n = noise(color, 10.0, -15.0, 77);
    x.insert(x.end(), n.begin(), n.end());
    auto regions = speech_regions(PcmAudio{x});
    ASSERT_TRUE(regions.ok());
    EXPECT_TRUE(regions->empty());
  }
}

// Why the gates exist: bookworm's WebRTC VAD on its own calls pink noise speech.
TEST(VoiceActivityDetector, WebRtcAloneFlagsPinkNoise) {
  VadOptions webrtc_only;
  webrtc_only.energy_threshold_db = 0.0F;
  webrtc_only.min_energy_dbfs = -200.0F;
  webrtc_only.periodicity_threshold = 0.0F;
  const std::vector<float> x = noise(Color::kPink, 10.0, -20.0, 5);
  EXPECT_GT(speech_fraction(run_vad(x, webrtc_only)), 0.5);
  EXPECT_LT(speech_fraction(run_vad(x)), 0.02);
}

// Defence in depth: with either the energy gate or the periodicity check
// switched off, the other (with WebRTC) still rejects stationary noise.
TEST(VoiceActivityDetector, EachCheckAloneRejectsStationaryNoise) {
  VadOptions no_energy_gate;
  no_energy_gate.energy_threshold_db = 0.0F;
  no_energy_gate.min_energy_dbfs = -200.0F;
  VadOptions no_periodicity;
  no_periodicity.periodicity_threshold = 0.0F;
  std::uint32_t seed = 40;
  for (Color color : {Color::kWhite, Color::kPink, Color::kBrown}) {
    SCOPED_TRACE(color_name(color));
    const std::vector<float> x = noise(color, 20.0, -20.0, seed++);
    EXPECT_LT(speech_fraction(run_vad(x, no_energy_gate)), 0.02);
    EXPECT_LT(speech_fraction(run_vad(x, no_periodicity)), 0.02);
  }
}

TEST(VoiceActivityDetector, MeasuresFalsePositivesOnOneMinuteOfPinkNoise) {
  const std::vector<float> x = noise(Color::kPink, 60.0, -25.0, 2024);
  const std::vector<VadFrame> frames = run_vad(x);
  const double rate = speech_fraction(frames);
  RecordProperty("pink_noise_false_positive_rate", std::to_string(rate));
  std::printf("vad: pink noise, 60 s at -25 dBFS: %.2f %% of frames flagged\n", 100.0 * rate);
  EXPECT_LT(rate, 0.02);
  auto regions = speech_regions(PcmAudio{x});
  ASSERT_TRUE(regions.ok());
  EXPECT_TRUE(regions->empty());
}

void expect_detected(const std::vector<Clip>& clips, double min_rate_each, double min_rate_all,
                     const char* label) {
  Detection all;
  Detection all_streamed;  // the frame decisions alone, before onsets are backdated
  for (const Clip& clip : clips) {
    SCOPED_TRACE(clip.name);
    ASSERT_FALSE(clip.samples.empty());
    const std::vector<bool> truth = energy_truth(clip.samples);
    std::vector<bool> streamed;
    const Detection d = detection(truth, flagged_with_onsets(clip.samples, &streamed));
    const Detection ds = detection(truth, streamed);
    std::printf("vad: %-50s %4zu truth frames, %5.1f %% flagged (%5.1f %% before backdating)\n",
                clip.name.c_str(), d.truth, 100.0 * d.rate(), 100.0 * ds.rate());
    EXPECT_GT(d.truth, 20U);
    EXPECT_GE(d.rate(), min_rate_each);
    all.truth += d.truth;
    all.hit += d.hit;
    all_streamed.truth += ds.truth;
    all_streamed.hit += ds.hit;
    auto any = has_speech(PcmAudio{clip.samples});
    ASSERT_TRUE(any.ok());
    EXPECT_TRUE(*any);
  }
  std::printf("vad: %s: %.1f %% of %zu truth frames flagged (%.1f %% before backdating)\n", label,
              100.0 * all.rate(), all.truth, 100.0 * all_streamed.rate());
  testing::Test::RecordProperty(std::string(label) + "_detection_rate", std::to_string(all.rate()));
  EXPECT_GE(all.rate(), min_rate_all);
  EXPECT_GE(all_streamed.rate(), 0.8);
}

TEST(VoiceActivityDetector, DetectsRecordedSpeech) {
  expect_detected(recorded_speech(), 0.9, 0.95, "recorded_speech");
}

TEST(VoiceActivityDetector, DetectsFliteSpeech) {
  expect_detected(flite_clips(), 0.95, 0.98, "flite");
}

// Region boundaries (unpadded) within 150 ms of the energy truth.
void expect_boundaries(const Clip& clip, bool check_end = true) {
  SCOPED_TRACE(clip.name);
  const std::vector<bool> truth = energy_truth(clip.samples);
  const auto first = std::find(truth.begin(), truth.end(), true) - truth.begin();
  const auto last = truth.rend() - std::find(truth.rbegin(), truth.rend(), true) - 1;
  SpeechRegionOptions exact;
  exact.pad_s = 0.0;
  auto regions = speech_regions(PcmAudio{clip.samples}, {}, exact);
  ASSERT_TRUE(regions.ok());
  ASSERT_FALSE(regions->empty());
  EXPECT_NEAR(regions->front().start_s, static_cast<double>(first) * kFrameS, 0.15);
  if (check_end) {
    EXPECT_NEAR(regions->back().end_s, static_cast<double>(last + 1) * kFrameS, 0.15);
  }
}

TEST(VoiceActivityDetector, RegionsMatchTheSpeechInRecordings) {
  // JFK ends in crowd noise as loud as the speech's quiet parts: energy
  // cannot tell where the words end, so only its start is checked.
  for (const Clip& clip : recorded_speech()) expect_boundaries(clip, clip.name != "jfk");
  for (const Clip& clip : flite_clips()) expect_boundaries(clip);
}

TEST(VoiceActivityDetector, GoForwardIsOneRegionAroundTheWords) {
  // "go forward ten meters": the words run from 0.50 s to about 2.25 s.
  auto regions = speech_regions(PcmAudio{read_raw(kTestData / "goforward.raw")});
  ASSERT_TRUE(regions.ok());
  ASSERT_EQ(regions->size(), 1U);
  EXPECT_NEAR(regions->front().start_s, 0.50 - 0.1, 0.1);
  EXPECT_NEAR(regions->front().end_s, 2.25 + 0.1, 0.1);
}

// Speech at +10 dB SNR over stationary noise that starts 1 s earlier.
TEST(VoiceActivityDetector, DetectsSpeechInNoise) {
  std::vector<Clip> clips = {
      {"goforward", read_raw(kTestData / "goforward.raw")}, {"jfk", jfk()}, flite_clips().front()};
  constexpr std::size_t kLead = 16000;
  std::uint32_t seed = 100;
  for (const Clip& clip : clips) {
    const std::vector<bool> truth = energy_truth(clip.samples);
    double speech_power = 0;
    std::size_t n = 0;
    for (std::size_t f = 0; f < truth.size(); ++f) {
      if (!truth[f]) continue;
      for (std::size_t i = f * kFrame; i < (f + 1) * kFrame; ++i) {
        const auto v = static_cast<double>(clip.samples[i]);
        speech_power += v * v;
      }
      n += kFrame;
    }
    const double noise_db = 10.0 * std::log10(speech_power / static_cast<double>(n)) - 10.0;
    for (Color color : {Color::kWhite, Color::kPink, Color::kBrown}) {
      SCOPED_TRACE(clip.name + " + " + color_name(color));
      std::vector<float> x =
          noise(color, static_cast<double>(kLead + clip.samples.size() + 8000) / 16000.0, noise_db,
                seed++);
      for (std::size_t i = 0; i < clip.samples.size(); ++i) x[kLead + i] += clip.samples[i];
      const std::vector<bool> flagged = flagged_with_onsets(x);
      const Detection d = detection(truth, flagged, kLead / kFrame);
      std::printf("vad: %-12s + %-5s noise at +10 dB SNR: %5.1f %% of truth frames flagged\n",
                  clip.name.c_str(), color_name(color), 100.0 * d.rate());
      EXPECT_GE(d.rate(), 0.75);
      // Nothing before the speech (the lead-in minus the onset lookback).
      for (std::size_t f = 0; f < kLead / kFrame - 30; ++f) EXPECT_FALSE(flagged[f]) << f;
    }
  }
}

TEST(VoiceActivityDetector, DecisionsDoNotDependOnChunking) {
  // JFK's first 4 s over pink noise: speech, pauses and noise.
  std::vector<float> x = jfk();
  x.resize(64000);
  const std::vector<float> n = noise(Color::kPink, 4.0, -35.0, 9);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += n[i];
  const std::vector<VadFrame> whole = run_vad(x);
  ASSERT_EQ(whole.size(), 400U);
  ASSERT_GT(speech_fraction(whole), 0.2);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{37}, std::size_t{160}, std::size_t{1000}}) {
    SCOPED_TRACE(chunk);
    auto vad = VoiceActivityDetector::create();
    ASSERT_TRUE(vad.ok());
    std::vector<VadFrame> frames;
    for (std::size_t pos = 0; pos < x.size(); pos += chunk) {
      const std::size_t len = std::min(chunk, x.size() - pos);
      const std::vector<VadFrame> got = vad->process(std::span<const float>(x.data() + pos, len));
      frames.insert(frames.end(), got.begin(), got.end());
    }
    ASSERT_EQ(frames.size(), whole.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
      ASSERT_EQ(frames[i].index, whole[i].index);
      ASSERT_EQ(frames[i].speech, whole[i].speech) << "frame " << i;
      ASSERT_EQ(frames[i].hangover, whole[i].hangover) << "frame " << i;
      ASSERT_EQ(frames[i].energy_db, whole[i].energy_db) << "frame " << i;
    }
  }
}

TEST(VoiceActivityDetector, StreamingStateFollowsTheFrames) {
  const std::vector<float> x = read_raw(kTestData / "goforward.raw");
  auto vad = VoiceActivityDetector::create();
  ASSERT_TRUE(vad.ok());
  EXPECT_EQ(vad->speech_onset_frame(), -1);
  EXPECT_TRUE(vad->process(std::span<const float>(x.data(), 159)).empty());
  EXPECT_EQ(vad->frames_processed(), 0);
  std::int64_t onset = -1;
  std::int64_t expected_index = 0;
  for (std::size_t pos = 159; pos + 320 <= x.size(); pos += 320) {
    const std::vector<VadFrame> frames = vad->process(std::span<const float>(x.data() + pos, 320));
    ASSERT_EQ(frames.size(), 2U);
    for (const VadFrame& f : frames) {
      EXPECT_EQ(f.index, expected_index++);
      if (f.speech && onset < 0) onset = vad->speech_onset_frame();
    }
    EXPECT_EQ(vad->frames_processed(), expected_index);
    EXPECT_EQ(vad->in_speech(), frames.back().speech);
  }
  ASSERT_GE(onset, 0);
  // The words start at 0.50 s; the detector commits later but dates the
  // onset back to them.
  EXPECT_NEAR(static_cast<double>(onset) * kFrameS, 0.50, 0.06);
}

TEST(VoiceActivityDetector, NonFiniteAndClippedSamplesDoNotBreakTheStream) {
  std::vector<float> x = read_raw(kTestData / "goforward.raw");
  // 0.1 s of NaN and infinities in the leading silence, full-scale overshoot later.
  for (std::size_t i = 1600; i < 3200; ++i) {
    x[i] = i % 3 == 0 ? std::numeric_limits<float>::quiet_NaN()
                      : (i % 3 == 1 ? std::numeric_limits<float>::infinity()
                                    : -std::numeric_limits<float>::infinity());
  }
  for (std::size_t i = 30000; i < 30100; ++i) x[i] *= 1000.0F;
  const std::vector<VadFrame> frames = run_vad(x);
  for (const VadFrame& f : frames) ASSERT_TRUE(std::isfinite(f.energy_db)) << f.index;
  auto regions = speech_regions(PcmAudio{x});
  ASSERT_TRUE(regions.ok());
  ASSERT_FALSE(regions->empty());
  EXPECT_NEAR(regions->front().start_s, 0.40, 0.1);
}

TEST(VoiceActivityDetector, RejectsBadOptions) {
  VadOptions o;
  o.aggressiveness = 4;
  EXPECT_EQ(VoiceActivityDetector::create(o).error().code, ErrorCode::kInvalidConfig);
  o = {};
  o.start_min_frames = 11;
  EXPECT_EQ(VoiceActivityDetector::create(o).error().code, ErrorCode::kInvalidConfig);
  o = {};
  o.periodicity_threshold = 1.0F;
  EXPECT_EQ(speech_regions(PcmAudio{}, o).error().code, ErrorCode::kInvalidConfig);
  SpeechRegionOptions r;
  r.pad_s = -0.1;
  EXPECT_EQ(speech_regions(PcmAudio{}, {}, r).error().code, ErrorCode::kInvalidConfig);
}

double vad_cpu_ms_per_audio_s(const std::vector<float>& x, const VadOptions& options) {
  constexpr int kRounds = 3;
  const std::clock_t start = std::clock();
  for (int round = 0; round < kRounds; ++round) {
    auto vad = VoiceActivityDetector::create(options);
    EXPECT_TRUE(vad.ok());
    for (std::size_t pos = 0; pos < x.size(); pos += 320) {
      (void)vad->process(
          std::span<const float>(x.data() + pos, std::min<std::size_t>(320, x.size() - pos)));
    }
  }
  const double cpu_ms = 1000.0 * static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  return cpu_ms / (kRounds * static_cast<double>(x.size()) / 16000.0);
}

// A measurement, not a speed bound: prints CPU per second of audio on the
// JFK sample (11 s), fed in 20 ms chunks as a live stream delivers it, with
// and without the periodicity check (the rest is mostly WebRTC).
TEST(VoiceActivityDetector, MeasuresCpuCostOnJfk) {
  const std::vector<float> x = jfk();
  ASSERT_EQ(x.size(), 176000U);
  const double full = vad_cpu_ms_per_audio_s(x, {});
  VadOptions no_periodicity;
  no_periodicity.periodicity_threshold = 0.0F;
  const double without = vad_cpu_ms_per_audio_s(x, no_periodicity);
  RecordProperty("vad_cpu_ms_per_audio_s", std::to_string(full));
  std::printf("vad: %.3f ms CPU per second of audio (JFK, 11 s); %.3f ms without periodicity\n",
              full, without);
  EXPECT_LT(full, 1000.0);  // slower than real time would be a bug, even in debug builds
}

}  // namespace
}  // namespace scribepod::audio
