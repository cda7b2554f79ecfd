// Resampler tests: generated tones through the real libswresample, checked
// for frequency, amplitude, phase, exact length, and independence from how
// the stream is chunked.
#include "audio/resampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <limits>
#include <numbers>
#include <vector>

namespace scribepod::audio {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;

// Interleaved int16 sine, the same on every channel unless `right_gain`
// scales the second channel.
std::vector<std::int16_t> sine_s16(int rate, int channels, double freq, double amplitude,
                                   std::size_t frames, double right_gain = 1.0) {
  std::vector<std::int16_t> out;
  out.reserve(frames * static_cast<std::size_t>(channels));
  for (std::size_t i = 0; i < frames; ++i) {
    const double v = amplitude * std::sin(kTwoPi * freq * static_cast<double>(i) / rate);
    out.push_back(static_cast<std::int16_t>(std::lrint(v * 32767.0)));
    if (channels == 2)
      out.push_back(static_cast<std::int16_t>(std::lrint(v * right_gain * 32767.0)));
  }
  return out;
}

template <typename T>
std::vector<float> convert_whole(int rate, int channels, const std::vector<T>& in) {
  auto r = Resampler::create(rate, channels);
  EXPECT_TRUE(r.ok());
  std::vector<float> out;
  EXPECT_TRUE(r->process(std::span<const T>(in), out).ok());
  EXPECT_TRUE(r->flush(out).ok());
  return out;
}

// Feeds `in` in chunks whose sizes cycle through `sizes` (in samples, not
// frames, so stereo frames get split across chunks).
template <typename T>
std::vector<float> convert_chunked(int rate, int channels, const std::vector<T>& in,
                                   const std::vector<std::size_t>& sizes) {
  auto r = Resampler::create(rate, channels);
  EXPECT_TRUE(r.ok());
  std::vector<float> out;
  std::size_t pos = 0;
  for (std::size_t k = 0; pos < in.size(); ++k) {
    const std::size_t n = std::min(sizes[k % sizes.size()], in.size() - pos);
    EXPECT_TRUE(r->process(std::span<const T>(in.data() + pos, n), out).ok());
    pos += n;
  }
  EXPECT_TRUE(r->flush(out).ok());
  return out;
}

std::size_t zero_crossings(std::span<const float> x) {
  std::size_t n = 0;
  for (std::size_t i = 1; i < x.size(); ++i) {
    if ((x[i - 1] < 0.0F) != (x[i] < 0.0F)) ++n;
  }
  return n;
}

double rms(std::span<const float> x) {
  double sum = 0;
  for (float v : x) sum += static_cast<double>(v) * static_cast<double>(v);
  return std::sqrt(sum / static_cast<double>(x.size()));
}

// Pearson correlation of x with an ideal 16 kHz sine of `freq`, phase 0.
double correlation_with_sine(std::span<const float> x, std::size_t first, double freq) {
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = first; i < x.size(); ++i) {
    const double y = std::sin(kTwoPi * freq * static_cast<double>(i) / 16000.0);
    sxy += static_cast<double>(x[i]) * y;
    sxx += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    syy += y * y;
  }
  return sxy / std::sqrt(sxx * syy);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
  }
  return worst;
}

std::int64_t expected_length(std::int64_t frames, int rate) {
  return (frames * 16000 + rate / 2) / rate;
}

TEST(Resampler, StereoSineAt44100BecomesMonoSineAt16k) {
  const auto in = sine_s16(44100, 2, 440.0, 0.5, 88200);  // 2 s
  const std::vector<float> out = convert_whole(44100, 2, in);
  ASSERT_EQ(out.size(), 32000U);
  // 440 Hz over 2 s: 1760 zero crossings.
  EXPECT_NEAR(static_cast<double>(zero_crossings(out)), 1760.0, 3.0);
  // Amplitude kept: RMS of a 0.5 sine is 0.5/sqrt(2); skip the edges, where
  // the filter sees the stream start and end.
  const std::span<const float> middle(out.data() + 200, out.size() - 400);
  EXPECT_NEAR(rms(middle), 0.5 / std::numbers::sqrt2, 0.005);
  // Same phase as the input, so no delay is added: one sample of delay at
  // 440 Hz would already bring the correlation down to 0.985.
  EXPECT_GT(correlation_with_sine(out, 200, 440.0), 0.9999);
}

TEST(Resampler, UpsamplesFrom8k) {
  const auto in = sine_s16(8000, 1, 1000.0, 0.25, 8000);
  const std::vector<float> out = convert_whole(8000, 1, in);
  ASSERT_EQ(out.size(), 16000U);
  EXPECT_NEAR(static_cast<double>(zero_crossings(out)), 2000.0, 3.0);
  EXPECT_NEAR(rms(std::span<const float>(out.data() + 200, 15600)), 0.25 / std::numbers::sqrt2,
              0.003);
  EXPECT_GT(correlation_with_sine(out, 200, 1000.0), 0.9999);
}

TEST(Resampler, StereoIsTheMeanOfBothChannels) {
  // Right channel in antiphase: the mix cancels.
  const std::vector<float> cancel =
      convert_whole(48000, 2, sine_s16(48000, 2, 300.0, 0.5, 48000, -1.0));
  EXPECT_LT(rms(cancel), 1e-4);
  // Right channel silent: half the amplitude.
  const std::vector<float> half =
      convert_whole(48000, 2, sine_s16(48000, 2, 300.0, 0.5, 48000, 0.0));
  EXPECT_NEAR(rms(std::span<const float>(half.data() + 200, half.size() - 400)),
              0.25 / std::numbers::sqrt2, 0.003);
}

TEST(Resampler, RemovesContentAboveTheNewNyquist) {
  // A 12 kHz tone at 48 kHz cannot exist at 16 kHz; it must not alias to 4 kHz.
  const std::vector<float> out = convert_whole(48000, 1, sine_s16(48000, 1, 12000.0, 0.5, 48000));
  EXPECT_LT(rms(std::span<const float>(out.data() + 200, out.size() - 400)), 0.005);
}

TEST(Resampler, ChunkedEqualsWhole) {
  for (int rate : {8000, 11025, 22050, 44100, 48000}) {
    for (int channels : {1, 2}) {
      SCOPED_TRACE(testing::Message() << rate << " Hz, " << channels << " ch");
      const auto in = sine_s16(rate, channels, 523.25, 0.6, static_cast<std::size_t>(rate) + 17);
      const std::vector<float> whole = convert_whole(rate, channels, in);
      for (const std::vector<std::size_t>& sizes :
           {std::vector<std::size_t>{1}, {37}, {441}, {3, 1000, 1, 4410, 77}}) {
        const std::vector<float> chunked = convert_chunked(rate, channels, in, sizes);
        EXPECT_NEAR(static_cast<double>(chunked.size()), static_cast<double>(whole.size()), 1.0);
        EXPECT_LE(max_abs_diff(chunked, whole), 1e-4);
      }
    }
  }
}

TEST(Resampler, TotalLengthIsRoundedRatio) {
  for (int rate : {8000, 11025, 16000, 22050, 32000, 44100, 48000}) {
    for (std::int64_t frames : {1, 7, 100, 1000, 44101}) {
      SCOPED_TRACE(testing::Message() << rate << " Hz, " << frames << " frames");
      const auto in = sine_s16(rate, 2, 440.0, 0.3, static_cast<std::size_t>(frames));
      auto r = Resampler::create(rate, 2);
      ASSERT_TRUE(r.ok());
      std::vector<float> out;
      ASSERT_TRUE(r->process(std::span<const std::int16_t>(in), out).ok());
      ASSERT_TRUE(r->flush(out).ok());
      EXPECT_EQ(static_cast<std::int64_t>(out.size()), expected_length(frames, rate));
      EXPECT_EQ(r->frames_in(), frames);
      EXPECT_EQ(r->samples_out(), static_cast<std::int64_t>(out.size()));
    }
  }
}

TEST(Resampler, FloatInputMatchesInt16Input) {
  const auto s16 = sine_s16(22050, 2, 700.0, 0.4, 22050);
  std::vector<float> f32;
  for (std::int16_t s : s16) f32.push_back(static_cast<float>(s) / 32768.0F);
  const std::vector<float> a = convert_whole(22050, 2, s16);
  const std::vector<float> b = convert_whole(22050, 2, f32);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_LE(max_abs_diff(a, b), 1e-6);
}

TEST(Resampler, NonFiniteFloatsCountAsSilence) {
  std::vector<float> in(22050, 0.25F);
  in[100] = std::numeric_limits<float>::quiet_NaN();
  in[5000] = std::numeric_limits<float>::infinity();
  in[5001] = -std::numeric_limits<float>::infinity();
  const std::vector<float> out = convert_whole(22050, 1, in);
  ASSERT_EQ(out.size(), 16000U);
  for (float v : out) ASSERT_TRUE(std::isfinite(v));
  // The signal around and after the bad samples comes through unharmed.
  EXPECT_NEAR(out[8000], 0.25F, 0.01F);
  EXPECT_NEAR(out[12000], 0.25F, 0.01F);
}

TEST(Resampler, SixteenKilohertzMonoPassesThrough) {
  const auto in = sine_s16(16000, 1, 440.0, 0.5, 16000);
  const std::vector<float> out = convert_chunked(16000, 1, in, {1, 160, 999});
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    ASSERT_NEAR(out[i], static_cast<float>(in[i]) / 32768.0F, 1e-6) << i;
  }
}

TEST(Resampler, RejectsBadParametersAndUseAfterFlush) {
  EXPECT_EQ(Resampler::create(7999, 1).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(Resampler::create(48001, 1).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(Resampler::create(16000, 0).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(Resampler::create(16000, 3).error().code, ErrorCode::kBadRequest);
  auto r = Resampler::create(44100, 2);
  ASSERT_TRUE(r.ok());
  std::vector<float> out;
  ASSERT_TRUE(r->flush(out).ok());
  EXPECT_TRUE(out.empty());
  const std::vector<std::int16_t> more(10, 0);
  EXPECT_EQ(r->process(std::span<const std::int16_t>(more), out).error().code,
            ErrorCode::kBadRequest);
}

TEST(Resampler, MovedFromStreamKeepsItsState) {
  const auto in = sine_s16(44100, 1, 440.0, 0.5, 44100);
  const std::vector<float> whole = convert_whole(44100, 1, in);
  auto first = Resampler::create(44100, 1);
  ASSERT_TRUE(first.ok());
  std::vector<float> out;
  ASSERT_TRUE(first->process(std::span<const std::int16_t>(in.data(), 20000), out).ok());
  Resampler second = std::move(*first);
  ASSERT_TRUE(second.process(std::span<const std::int16_t>(in.data() + 20000, 24100), out).ok());
  ASSERT_TRUE(second.flush(out).ok());
  ASSERT_EQ(out.size(), whole.size());
  EXPECT_LE(max_abs_diff(out, whole), 1e-6);
}

// Not a bound on speed, a measurement: prints the CPU cost per second of
// 44.1 kHz stereo audio, in 10 ms chunks as a live stream delivers it.
TEST(Resampler, MeasuresCpuCost) {
  const auto in = sine_s16(44100, 2, 440.0, 0.5, 44100 * 10);
  auto r = Resampler::create(44100, 2);
  ASSERT_TRUE(r.ok());
  std::vector<float> out;
  out.reserve(170000);
  const std::clock_t start = std::clock();
  for (std::size_t pos = 0; pos < in.size(); pos += 882) {
    const std::size_t n = std::min<std::size_t>(882, in.size() - pos);
    ASSERT_TRUE(r->process(std::span<const std::int16_t>(in.data() + pos, n), out).ok());
  }
  ASSERT_TRUE(r->flush(out).ok());
  const double cpu_ms = 1000.0 * static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  const double ms_per_s = cpu_ms / 10.0;
  RecordProperty("resampler_cpu_ms_per_audio_s", std::to_string(ms_per_s));
  std::printf("resampler: %.3f ms CPU per second of 44.1 kHz stereo audio\n", ms_per_s);
  EXPECT_EQ(out.size(), 160000U);
  EXPECT_LT(ms_per_s, 1000.0);  // slower than real time would be a bug, even in debug builds
}

}  // namespace
}  // namespace scribepod::audio
