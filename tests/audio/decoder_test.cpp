// Tests for audio/format and audio/decoder against real encoded files.
//
// Fixtures are made at test time: a flite sentence, encoded by the ffmpeg
// binary into every accepted format, into a temp dir per test process. The
// reference each decode is compared with is ffmpeg's own decode of the flite
// WAV to 16 kHz mono float, so it does not pass through the code under test.
#include "audio/decoder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audio/format.h"

namespace scribepod::audio {
namespace {

namespace fs = std::filesystem;

constexpr char kSentence[] =
    "The quick brown fox jumps over the lazy dog, while seven bands play on the green.";

// --- Fixtures ----------------------------------------------------------------

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool run(const std::string& command) {
  const int rc = std::system(("(" + command + ") >/dev/null 2>&1").c_str());
  if (rc != 0) ADD_FAILURE() << "fixture command failed: " << command;
  return rc == 0;
}

// Fixtures are made at test time, and shared by the processes ctest starts
// (one per test case) through a cache directory: each file is named by a hash
// of its recipe and of the tools' timestamps, and written under a temporary
// name then renamed, so concurrent processes never read a partial file.
fs::path cache_dir() {
  static const fs::path dir = [] {
    fs::path d =
        fs::temp_directory_path() / ("scribepod-audio-fixtures-" + std::to_string(::getuid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string tools_stamp() {
  std::string stamp;
  for (const char* tool : {"/usr/bin/ffmpeg", "/usr/bin/flite"}) {
    std::error_code ec;
    stamp += std::to_string(fs::last_write_time(tool, ec).time_since_epoch().count()) + ";";
  }
  return stamp;
}

// The file `name` made by command(output_path), cached under its recipe.
template <typename Command>
fs::path generated(const std::string& name, const std::string& recipe, Command command) {
  static const std::string stamp = tools_stamp();
  std::ostringstream key;
  key << std::hex << std::hash<std::string>{}(stamp + recipe) << "-" << name;
  const fs::path path = cache_dir() / key.str();
  if (!fs::exists(path)) {
    // The extension stays last: ffmpeg picks its muxer by it.
    const fs::path partial = cache_dir() / ("partial-" + std::to_string(::getpid()) + "-" + name);
    std::error_code ec;
    if (run(command(partial.string()))) {
      fs::rename(partial, path, ec);
    } else {
      fs::remove(partial, ec);
    }
  }
  return path;
}

// The flite sentence as flite wrote it.
fs::path speech_wav() {
  return generated("speech.wav", kSentence, [](const std::string& out) {
    return "flite -voice slt -t \"" + std::string(kSentence) + "\" -o " + out;
  });
}

// ffmpeg <input_args> -i <speech.wav> <args> <name>.
std::string encoded(const std::string& name, const std::string& args,
                    const std::string& input_args = "") {
  const fs::path source = speech_wav();
  const std::string recipe = std::string(kSentence) + "|" + input_args + "|" + args;
  return read_file(generated(name, recipe, [&](const std::string& out) {
    return "ffmpeg -nostdin -v error -y " + input_args + " -i " + source.string() + " " + args +
           " " + out;
  }));
}

std::vector<float> as_floats(const std::string& bytes) {
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

// ffmpeg's decode of the flite WAV at 16 kHz mono: the yardstick.
const std::vector<float>& reference() {
  static const std::vector<float> ref =
      as_floats(encoded("reference.f32", "-ar 16000 -ac 1 -f f32le"));
  return ref;
}

// --- Signal comparison -------------------------------------------------------

struct Alignment {
  double correlation = 0;
  int lag = 0;  // b is a delayed by this many samples
};

// Best normalised cross-correlation of a and b over lags in [-max_lag, max_lag],
// computed over the overlap.
Alignment align(std::span<const float> a, std::span<const float> b, int max_lag = 48) {
  Alignment best{-2, 0};
  for (int lag = -max_lag; lag <= max_lag; ++lag) {
    double ab = 0;
    double aa = 0;
    double bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const auto j = static_cast<std::ptrdiff_t>(i) + lag;
      if (j < 0 || j >= static_cast<std::ptrdiff_t>(b.size())) continue;
      const auto x = static_cast<double>(a[i]);
      const auto y = static_cast<double>(b[static_cast<std::size_t>(j)]);
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const double c = aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0;
    if (c > best.correlation) best = {c, lag};
  }
  return best;
}

double rms(std::span<const float> s) {
  double sum = 0;
  for (float v : s) sum += static_cast<double>(v) * static_cast<double>(v);
  return s.empty() ? 0 : std::sqrt(sum / static_cast<double>(s.size()));
}

double seconds(std::size_t samples) { return static_cast<double>(samples) / kSampleRate; }

// --- format.h ----------------------------------------------------------------

TEST(FormatTest, SniffsMagicBytes) {
  using namespace std::string_literals;
  EXPECT_EQ(sniff_format("RIFF\x24\x12\x02\x00WAVEfmt "s), AudioFormat::kWav);
  EXPECT_EQ(sniff_format("RIFX\x00\x02\x12\x24WAVEfmt "s), AudioFormat::kWav);
  EXPECT_EQ(sniff_format("RIFF\x24\x12\x02\x00AVI LIST"s), AudioFormat::kUnknown);
  EXPECT_EQ(sniff_format("OggS\x00\x02"s), AudioFormat::kOgg);
  EXPECT_EQ(sniff_format("\x1A\x45\xDF\xA3\x9F\x42\x86\x81"s), AudioFormat::kWebm);
  EXPECT_EQ(sniff_format("fLaC\x00\x00\x00\x22"s), AudioFormat::kFlac);
  EXPECT_EQ(sniff_format("ID3\x04\x00\x00\x00\x00\x00\x05xxxxx\xFF\xFB\x90\x64"s),
            AudioFormat::kMp3);
  EXPECT_EQ(sniff_format("ID3\x04\x00\x00\x00\x00\x00\x05xxxxxfLaC"s), AudioFormat::kFlac);
  EXPECT_EQ(sniff_format("\xFF\xFB\x90\x64\x00\x00"s), AudioFormat::kMp3);      // MPEG-1 layer III
  EXPECT_EQ(sniff_format("\xFF\xF3\x48\xC4\x00\x00"s), AudioFormat::kMp3);      // MPEG-2 layer III
  EXPECT_EQ(sniff_format("\xFF\xF1\x50\x80\x00\x00"s), AudioFormat::kUnknown);  // AAC ADTS
  EXPECT_EQ(sniff_format("\xFF\xFB\xF0\x64\x00\x00"s), AudioFormat::kUnknown);  // bad bitrate
  EXPECT_EQ(sniff_format("\x00\x00\x00\x20"
                         "ftypM4A "s),
            AudioFormat::kUnknown);
  EXPECT_EQ(sniff_format(""), AudioFormat::kUnknown);
  EXPECT_EQ(sniff_format("Ogg"), AudioFormat::kUnknown);

  EXPECT_TRUE(sniff_is_strong("OggS"));
  EXPECT_TRUE(sniff_is_strong("ID3\x04\x00\x00\x00\x00\x00\x05xxxxx\xFF\xFB\x90\x64"s));
  EXPECT_FALSE(sniff_is_strong("\xFF\xFB\x90\x64\x00\x00"s));
}

TEST(FormatTest, NamesAndDescribesWhatWasFound) {
  using namespace std::string_literals;
  EXPECT_EQ(format_name(AudioFormat::kWebm), "WebM");
  EXPECT_EQ(format_name(AudioFormat::kRawPcm16), "raw PCM16");
  EXPECT_EQ(describe_unknown("\x00\x00\x00\x20"
                             "ftypM4A "s),
            "MP4/M4A");
  EXPECT_EQ(describe_unknown("FORM\x00\x00\x10\x00"
                             "AIFFCOMM"s),
            "AIFF");
  EXPECT_EQ(describe_unknown("\xFF\xF1\x50\x80"s), "AAC (ADTS)");
  EXPECT_EQ(describe_unknown("<html><body>hello</body></html>\n"), "text");
  EXPECT_EQ(describe_unknown("\x01\x02\xFE\xFF"s), "bytes 01 02 fe ff");
}

TEST(FormatTest, ParsesDeclaredContentTypes) {
  auto l16 = parse_content_type("audio/L16; rate=16000; channels=1");
  ASSERT_TRUE(l16.ok());
  EXPECT_EQ(l16->media_type, "audio/l16");
  EXPECT_EQ(l16->format, AudioFormat::kRawPcm16);
  EXPECT_EQ(l16->raw.sample_rate, 16000);
  EXPECT_EQ(l16->raw.channels, 1);
  EXPECT_TRUE(l16->raw.big_endian);  // RFC 2586

  auto pcm = parse_content_type("audio/pcm;rate=8000");
  ASSERT_TRUE(pcm.ok());
  EXPECT_EQ(pcm->format, AudioFormat::kRawPcm16);
  EXPECT_EQ(pcm->raw.sample_rate, 8000);
  EXPECT_FALSE(pcm->raw.big_endian);

  auto little =
      parse_content_type("Audio/L16 ; Rate=\"44100\"; CHANNELS=2; endianness=little-endian");
  ASSERT_TRUE(little.ok());
  EXPECT_EQ(little->raw.sample_rate, 44100);
  EXPECT_EQ(little->raw.channels, 2);
  EXPECT_FALSE(little->raw.big_endian);

  EXPECT_EQ(parse_content_type("audio/ogg; codecs=opus")->format, AudioFormat::kOgg);
  EXPECT_EQ(parse_content_type("audio/webm;codecs=opus")->format, AudioFormat::kWebm);
  EXPECT_EQ(parse_content_type("audio/mpeg")->format, AudioFormat::kMp3);
  EXPECT_EQ(parse_content_type("audio/x-wav")->format, AudioFormat::kWav);
  EXPECT_EQ(parse_content_type("application/octet-stream")->format, AudioFormat::kUnknown);
  EXPECT_EQ(parse_content_type("")->media_type, "");

  for (const char* bad :
       {"audio/pcm;rate=abc", "audio/pcm;rate=0", "audio/pcm;rate=16000x", "audio/L16;channels=0",
        "audio/L16;channels=99", "audio/L16;endianness=middle"}) {
    auto parsed = parse_content_type(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::kBadRequest) << bad;
  }
  // Odd parameters on non-raw types are not our business.
  EXPECT_TRUE(parse_content_type("audio/ogg; rate=abc").ok());
}

// --- Every accepted format ---------------------------------------------------

struct FormatCase {
  const char* name;  // fixture file name; its extension picks ffmpeg's muxer
  const char* args;  // ffmpeg output options
  AudioFormat format;
  const char* codec;
  int rate;
  int channels;
};

void PrintTo(const FormatCase& c, std::ostream* os) { *os << c.name; }

class DecodeFormatTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(DecodeFormatTest, DecodesToSixteenKilohertzMonoThatMatchesTheSource) {
  const FormatCase& c = GetParam();
  const std::string bytes = encoded(c.name, c.args);
  ASSERT_FALSE(bytes.empty());
  auto decoded = decode_audio_with_info(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const DecodeInfo& info = decoded->info;
  EXPECT_EQ(info.format, c.format);
  EXPECT_EQ(info.codec, c.codec);
  EXPECT_EQ(info.source_sample_rate, c.rate);
  EXPECT_EQ(info.source_channels, c.channels);
  EXPECT_FALSE(info.truncated);
  EXPECT_EQ(info.damaged_packets, 0U);

  const std::vector<float>& ref = reference();
  const std::vector<float>& got = decoded->audio.samples;
  // Encoder delay and padding are trimmed (Opus pre-skip, LAME's gapless
  // info), so the length is the source's to within a few milliseconds.
  EXPECT_NEAR(seconds(got.size()), seconds(ref.size()), 0.003);
  EXPECT_TRUE(std::all_of(got.begin(), got.end(), [](float v) { return v >= -1 && v <= 1; }));
  // Waveforms agree, and line up: no drift from the resampler or a codec.
  const Alignment a = align(got, ref);
  // Measured: 0.997 (MP3) to 1.0 (PCM, FLAC), lag 0 for every format.
  EXPECT_GT(a.correlation, 0.98) << "lag " << a.lag;
  EXPECT_LE(std::abs(a.lag), 2) << "correlation " << a.correlation;
}

INSTANTIATE_TEST_SUITE_P(
    AllFormats, DecodeFormatTest,
    ::testing::Values(
        FormatCase{"s16.wav", "-c:a pcm_s16le", AudioFormat::kWav, "pcm_s16le", 16000, 1},
        FormatCase{"s32.wav", "-c:a pcm_s32le", AudioFormat::kWav, "pcm_s32le", 16000, 1},
        FormatCase{"f32.wav", "-c:a pcm_f32le", AudioFormat::kWav, "pcm_f32le", 16000, 1},
        FormatCase{"s16_8k.wav", "-ar 8000 -c:a pcm_s16le", AudioFormat::kWav, "pcm_s16le", 8000,
                   1},
        FormatCase{"s16_44k_stereo.wav", "-ar 44100 -ac 2 -c:a pcm_s16le", AudioFormat::kWav,
                   "pcm_s16le", 44100, 2},
        FormatCase{"f32_48k_stereo.wav", "-ar 48000 -ac 2 -c:a pcm_f32le", AudioFormat::kWav,
                   "pcm_f32le", 48000, 2},
        FormatCase{"opus.ogg", "-c:a libopus", AudioFormat::kOgg, "opus", 48000, 1},
        FormatCase{"opus_48k_stereo.ogg", "-ar 48000 -ac 2 -c:a libopus", AudioFormat::kOgg, "opus",
                   48000, 2},
        FormatCase{"opus.webm", "-c:a libopus", AudioFormat::kWebm, "opus", 48000, 1},
        FormatCase{"opus_48k_stereo.webm", "-ar 48000 -ac 2 -c:a libopus", AudioFormat::kWebm,
                   "opus", 48000, 2},
        FormatCase{"lame.mp3", "-c:a libmp3lame", AudioFormat::kMp3, "mp3", 16000, 1},
        FormatCase{"lame_44k_stereo.mp3", "-ar 44100 -ac 2 -c:a libmp3lame", AudioFormat::kMp3,
                   "mp3", 44100, 2},
        FormatCase{"x.flac", "-c:a flac", AudioFormat::kFlac, "flac", 16000, 1},
        FormatCase{"x_44k_stereo.flac", "-ar 44100 -ac 2 -c:a flac", AudioFormat::kFlac, "flac",
                   44100, 2},
        FormatCase{"surround51.wav", "-af 'pan=5.1|FC=c0' -c:a pcm_s16le", AudioFormat::kWav,
                   "pcm_s16le", 16000, 6}),
    [](const ::testing::TestParamInfo<FormatCase>& param) {
      std::string name = param.param.name;
      std::replace(name.begin(), name.end(), '.', '_');
      return name;
    });

// --- Declared types and raw PCM ----------------------------------------------

TEST(DecoderTest, BytesDecideNotTheDeclaredType) {
  const std::string wav = encoded("s16.wav", "-c:a pcm_s16le");
  auto as_ogg = decode_audio_with_info(wav, "audio/ogg; codecs=opus");
  ASSERT_TRUE(as_ogg.ok()) << as_ogg.error().message;
  EXPECT_EQ(as_ogg->info.format, AudioFormat::kWav);

  // Even a raw PCM declaration loses to a strong signature.
  const std::string ogg = encoded("opus.ogg", "-c:a libopus");
  auto as_raw = decode_audio_with_info(ogg, "audio/L16; rate=16000");
  ASSERT_TRUE(as_raw.ok()) << as_raw.error().message;
  EXPECT_EQ(as_raw->info.format, AudioFormat::kOgg);
  EXPECT_GT(align(as_raw->audio.samples, reference()).correlation, 0.98);
}

TEST(DecoderTest, RawPcm16DecodesWhenDeclared) {
  const std::string le = encoded("s16le_16k.raw", "-ar 16000 -ac 1 -f s16le");
  auto pcm = decode_audio_with_info(le, "audio/pcm;rate=16000");
  ASSERT_TRUE(pcm.ok()) << pcm.error().message;
  EXPECT_EQ(pcm->info.format, AudioFormat::kRawPcm16);
  EXPECT_EQ(pcm->info.codec, "pcm_s16le");
  EXPECT_EQ(pcm->audio.samples.size(), reference().size());
  EXPECT_GT(align(pcm->audio.samples, reference(), 4).correlation, 0.999);

  // audio/L16 is big-endian unless it says otherwise (RFC 2586).
  const std::string be = encoded("s16be_16k.raw", "-ar 16000 -ac 1 -f s16be");
  auto l16 = decode_audio(be, "audio/L16; rate=16000; channels=1");
  ASSERT_TRUE(l16.ok()) << l16.error().message;
  EXPECT_GT(align(l16->samples, reference(), 4).correlation, 0.999);
  auto little = decode_audio(le, "audio/L16; rate=16000; endianness=little-endian");
  ASSERT_TRUE(little.ok());
  EXPECT_GT(align(little->samples, reference(), 4).correlation, 0.999);

  // Other rates and unnamed channels: 8 kHz stereo, both channels the same.
  const std::string stereo8k = encoded("s16le_8k_stereo.raw", "-ar 8000 -ac 2 -f s16le");
  auto resampled = decode_audio(stereo8k, "audio/pcm; rate=8000; channels=2");
  ASSERT_TRUE(resampled.ok()) << resampled.error().message;
  EXPECT_NEAR(resampled->duration_s(), seconds(reference().size()), 0.002);
  EXPECT_GT(align(resampled->samples, reference()).correlation, 0.98);
}

TEST(DecoderTest, RawPcmNeedsADeclarationAndWholeFrames) {
  const std::string le = encoded("s16le_16k.raw", "-ar 16000 -ac 1 -f s16le");
  auto undeclared = decode_audio(le, "application/octet-stream");
  ASSERT_FALSE(undeclared.ok());
  EXPECT_EQ(undeclared.error().code, ErrorCode::kUnsupportedMediaType);
  EXPECT_NE(undeclared.error().message.find("application/octet-stream"), std::string::npos);

  auto odd = decode_audio(le.substr(0, 1001), "audio/pcm; rate=16000");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(odd.error().message.find("1001 bytes"), std::string::npos) << odd.error().message;

  auto bad_rate = decode_audio(le, "audio/pcm; rate=fast");
  ASSERT_FALSE(bad_rate.ok());
  EXPECT_EQ(bad_rate.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(bad_rate.error().message.find("rate=fast"), std::string::npos);
}

// --- Mixing down -------------------------------------------------------------

TEST(DecoderTest, StereoIsAveragedSoItNeitherClipsNorVanishes) {
  // Identical channels: the mix is the signal itself, not 1.41x of it.
  const std::string both = encoded("both.wav", "-af 'pan=stereo|c0=c0|c1=c0' -c:a pcm_f32le");
  auto same = decode_audio(both);
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_NEAR(rms(same->samples) / rms(reference()), 1.0, 0.02);

  // Speech on the left only: half the amplitude, still there.
  const std::string left = encoded("left.wav", "-af 'pan=stereo|c0=c0|c1=0*c0' -c:a pcm_s16le");
  auto half = decode_audio(left);
  ASSERT_TRUE(half.ok()) << half.error().message;
  EXPECT_NEAR(rms(half->samples) / rms(reference()), 0.5, 0.02);
  EXPECT_GT(align(half->samples, reference(), 4).correlation, 0.99);
}

TEST(DecoderTest, OutputStaysFiniteAndInRangeWhateverTheFloatsHold) {
  // A float WAV written by hand: NaN, infinities and values far past full scale.
  std::vector<float> samples = {0.5F,
                                std::numeric_limits<float>::quiet_NaN(),
                                std::numeric_limits<float>::infinity(),
                                -1e30F,
                                4.0F,
                                -0.25F};
  samples.resize(16000, 0.1F);
  const auto data_bytes = static_cast<std::uint32_t>(samples.size() * sizeof(float));
  std::string wav = "RIFF";
  auto u32 = [&wav](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) wav.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  auto u16 = [&wav](std::uint16_t v) {
    wav.push_back(static_cast<char>(v & 0xFF));
    wav.push_back(static_cast<char>(v >> 8));
  };
  u32(36 + data_bytes);
  wav += "WAVEfmt ";
  u32(16);
  u16(3);  // IEEE float
  u16(1);
  u32(16000);
  u32(16000 * 4);
  u16(4);
  u16(32);
  wav += "data";
  u32(data_bytes);
  wav.append(reinterpret_cast<const char*>(samples.data()), data_bytes);

  auto decoded = decode_audio_with_info(wav);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->info.codec, "pcm_f32le");
  EXPECT_EQ(decoded->audio.samples.size(), samples.size());
  for (float v : decoded->audio.samples) {
    ASSERT_TRUE(std::isfinite(v));
    ASSERT_LE(std::fabs(v), 1.0F);
  }
}

TEST(DecoderTest, EveryFewMillisecondsOfInputComeOut) {
  // 20 samples at 8 kHz (2.5 ms): libswresample alone returns nothing.
  std::string raw(40, '\0');
  for (std::size_t i = 0; i < raw.size(); i += 2) raw[i + 1] = 0x20;  // 0x2000 LE: 0.25
  auto tiny = decode_audio(raw, "audio/pcm; rate=8000");
  ASSERT_TRUE(tiny.ok()) << tiny.error().message;
  EXPECT_EQ(tiny->samples.size(), 40U);

  // 5 ms of 48 kHz stereo WAV: 80 samples.
  const std::string wav = encoded("5ms.wav", "-t 0.005 -ar 48000 -ac 2 -c:a pcm_s16le");
  auto short_wav = decode_audio(wav);
  ASSERT_TRUE(short_wav.ok()) << short_wav.error().message;
  EXPECT_EQ(short_wav->samples.size(), 80U);

  // One sample at 48 kHz is a third of a 16 kHz sample: nothing to return.
  auto nothing = decode_audio(std::string(2, '\1'), "audio/pcm; rate=48000");
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().code, ErrorCode::kBadRequest);
}

TEST(DecoderTest, HeaderClaimingAHugeChunkCostsNothing) {
  // Found by the fuzzer: 99 bytes whose LIST chunk claims 3.1 GB and holds an
  // INFO entry claiming 1.9 GB made the WAV demuxer allocate and zero 1.9 GB
  // (3.5 s here) before noticing the bytes weren't there.
  using namespace std::string_literals;
  const std::string wav =
      "RIFF\xc6\x0c\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x40\x1f\x00\x00"
      "\x00\x7d\x00\x00\x04\x00\x10\x00"
      "LIST\x1a\x00\x00\xb9INFOISFT\x0e\x00\x00\x00Lavf59.27.100\x00"
      "data\x80\x0c\x00\x74"
      "a\xff\xff\xff\xff\xff\xff\xbe\xbb\xb1\xb7\xff\xff\x80\x0c\x00\x00\x96\xff\x00\xc4"s;
  ASSERT_EQ(wav.size(), 99U);
  const auto t0 = std::chrono::steady_clock::now();
  auto decoded = decode_audio(wav);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kBadRequest);
  EXPECT_LT(ms, 200);
}

// --- What is refused ---------------------------------------------------------

TEST(DecoderTest, EmptyInputIs400) {
  auto empty = decode_audio("", "audio/ogg");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
}

TEST(DecoderTest, UnknownBytesAre415AndSayWhatTheyLookLike) {
  auto html = decode_audio("<!doctype html><html><body>no audio here</body></html>", "audio/wav");
  ASSERT_FALSE(html.ok());
  EXPECT_EQ(html.error().code, ErrorCode::kUnsupportedMediaType);
  EXPECT_NE(html.error().message.find("text"), std::string::npos) << html.error().message;
  EXPECT_NE(html.error().message.find("audio/wav"), std::string::npos) << html.error().message;

  // Safari's MediaRecorder format: a real container, just not one we take.
  const std::string m4a = encoded("aac.m4a", "-c:a aac");
  auto mp4 = decode_audio(m4a);
  ASSERT_FALSE(mp4.ok());
  EXPECT_EQ(mp4.error().code, ErrorCode::kUnsupportedMediaType);
  EXPECT_NE(mp4.error().message.find("MP4/M4A"), std::string::npos) << mp4.error().message;
}

TEST(DecoderTest, AcceptedContainerWithAnUnacceptedCodecIs415) {
  const std::string adpcm = encoded("adpcm.wav", "-c:a adpcm_ms");
  auto wav = decode_audio(adpcm);
  ASSERT_FALSE(wav.ok());
  EXPECT_EQ(wav.error().code, ErrorCode::kUnsupportedMediaType);
  EXPECT_NE(wav.error().message.find("adpcm_ms"), std::string::npos) << wav.error().message;

  const std::string aac = encoded("aac.mka", "-c:a aac");
  auto mka = decode_audio(aac);
  ASSERT_FALSE(mka.ok());
  EXPECT_EQ(mka.error().code, ErrorCode::kUnsupportedMediaType);
  EXPECT_NE(mka.error().message.find("aac"), std::string::npos) << mka.error().message;
}

TEST(DecoderTest, GarbageBehindAMagicIs400) {
  std::string noise(4000, '\0');
  std::uint32_t x = 12345;
  for (char& c : noise) {
    x = x * 1664525U + 1013904223U;
    c = static_cast<char>(x >> 24);
  }
  auto ogg = decode_audio("OggS" + noise);
  ASSERT_FALSE(ogg.ok());
  EXPECT_EQ(ogg.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(ogg.error().message.find("Ogg"), std::string::npos) << ogg.error().message;

  using namespace std::string_literals;
  for (const std::string& magic : {"fLaC"s, "\x1A\x45\xDF\xA3"s, "RIFF\xFF\x00\x00\x00WAVE"s}) {
    auto decoded = decode_audio(magic + noise);
    ASSERT_FALSE(decoded.ok()) << magic;
    EXPECT_EQ(decoded.error().code, ErrorCode::kBadRequest) << decoded.error().message;
  }
}

// Flips one byte in every `step` past the first 10 %.
std::string damaged(std::string bytes, std::size_t step) {
  for (std::size_t i = bytes.size() / 10; i < bytes.size(); i += step) bytes[i] ^= 0x55;
  return bytes;
}

TEST(DecoderTest, MostlyDamagedStreamIs400ButAFewBadPacketsAreSkipped) {
  const std::string flac = encoded("x.flac", "-c:a flac");
  auto ruined = decode_audio(damaged(flac, 50));
  ASSERT_FALSE(ruined.ok());
  EXPECT_EQ(ruined.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(ruined.error().message.find("decoder error"), std::string::npos)
      << ruined.error().message;

  auto scratched = decode_audio_with_info(damaged(flac, 997));
  ASSERT_TRUE(scratched.ok()) << scratched.error().message;
  EXPECT_GT(scratched->info.damaged_packets, 0U);
  EXPECT_TRUE(scratched->info.truncated);
  EXPECT_GT(scratched->audio.duration_s(), 0.5 * seconds(reference().size()));

  const std::string ogg = encoded("opus.ogg", "-c:a libopus");
  auto ogg_ruined = decode_audio(damaged(ogg, 50));
  ASSERT_FALSE(ogg_ruined.ok());
  EXPECT_EQ(ogg_ruined.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(ogg_ruined.error().message.find("corrupt Ogg stream"), std::string::npos)
      << ogg_ruined.error().message;
}

TEST(DecoderTest, HeaderWithoutAudioIs400) {
  const std::string wav = encoded("s16.wav", "-c:a pcm_s16le");
  auto header_only = decode_audio(wav.substr(0, 44));
  ASSERT_FALSE(header_only.ok());
  EXPECT_EQ(header_only.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(header_only.error().message.find("truncated WAV"), std::string::npos)
      << header_only.error().message;

  const std::string ogg = encoded("opus.ogg", "-c:a libopus");
  auto ogg_head = decode_audio(ogg.substr(0, 200));
  ASSERT_FALSE(ogg_head.ok());
  EXPECT_EQ(ogg_head.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(ogg_head.error().message.find("truncated Ogg stream"), std::string::npos)
      << ogg_head.error().message;
}

TEST(DecoderTest, SampleRateOutsideTheSaneRangeIs415) {
  std::string wav = encoded("s16.wav", "-c:a pcm_s16le");
  ASSERT_EQ(wav.substr(12, 4), "fmt ");
  wav[24] = 100;  // 100 Hz: the fmt chunk's sample rate, little-endian
  wav[25] = wav[26] = wav[27] = 0;
  auto decoded = decode_audio(wav);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kUnsupportedMediaType);
  EXPECT_NE(decoded.error().message.find("100 Hz"), std::string::npos) << decoded.error().message;
}

// --- Limits ------------------------------------------------------------------

TEST(DecoderTest, InputOverMaxBytesIs413BeforeAnyWork) {
  const std::string wav = encoded("s16.wav", "-c:a pcm_s16le");
  DecodeLimits limits;
  limits.max_input_bytes = 1000;
  auto decoded = decode_audio(wav, {}, limits);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_NE(decoded.error().message.find("1000-byte limit"), std::string::npos)
      << decoded.error().message;
}

TEST(DecoderTest, AudioOverMaxDurationIs413WithoutDecodingItAll) {
  // 60 s of Ogg/Opus against a 5 s limit.
  const std::string long_ogg = encoded("long.ogg", "-t 60 -c:a libopus", "-stream_loop -1");
  auto time_ms = [&long_ogg](const DecodeLimits& limits, Result<PcmAudio>* out) {
    double best = 1e9;
    for (int i = 0; i < 3; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      *out = decode_audio(long_ogg, {}, limits);
      const auto t1 = std::chrono::steady_clock::now();
      best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    return best;
  };
  Result<PcmAudio> full = Error::internal("not run");
  const double full_ms = time_ms({}, &full);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_NEAR(full->duration_s(), 60.0, 0.01);

  DecodeLimits limits;
  limits.max_duration_s = 5;
  Result<PcmAudio> limited = Error::internal("not run");
  const double limited_ms = time_ms(limits, &limited);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_NE(limited.error().message.find("5 s limit"), std::string::npos)
      << limited.error().message;
  // 5 of 60 seconds decoded: allow generous slack for a loaded machine.
  EXPECT_LT(limited_ms, 0.35 * full_ms) << "limited " << limited_ms << " ms, full " << full_ms;

  // Raw PCM knows its length up front.
  const std::string raw = encoded("s16le_16k.raw", "-ar 16000 -ac 1 -f s16le");
  limits.max_duration_s = 1;
  auto raw_limited = decode_audio(raw, "audio/pcm;rate=16000", limits);
  ASSERT_FALSE(raw_limited.ok());
  EXPECT_EQ(raw_limited.error().code, ErrorCode::kPayloadTooLarge);
}

// --- Truncation policy -------------------------------------------------------

// Cut at 50 %: what decodes comes back, flagged, and it is the start of the
// sentence.
void expect_first_half(const std::string& bytes, AudioFormat format) {
  auto decoded = decode_audio_with_info(bytes.substr(0, bytes.size() / 2));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->info.format, format);
  EXPECT_TRUE(decoded->info.truncated);
  const std::vector<float>& got = decoded->audio.samples;
  const double full = seconds(reference().size());
  EXPECT_GT(seconds(got.size()), 0.3 * full);
  EXPECT_LT(seconds(got.size()), 0.7 * full);
  const std::span<const float> prefix(reference().data(), std::min(got.size(), reference().size()));
  EXPECT_GT(align(got, prefix).correlation, 0.98);
}

TEST(DecoderTest, TruncatedOggOpusDecodesTheFirstPart) {
  expect_first_half(encoded("opus.ogg", "-c:a libopus"), AudioFormat::kOgg);
}

TEST(DecoderTest, TruncatedWebmOpusDecodesTheFirstPart) {
  expect_first_half(encoded("opus.webm", "-c:a libopus"), AudioFormat::kWebm);
}

TEST(DecoderTest, TruncatedWavMp3AndFlacDecodeTheFirstPart) {
  expect_first_half(encoded("s16.wav", "-c:a pcm_s16le"), AudioFormat::kWav);
  expect_first_half(encoded("lame.mp3", "-c:a libmp3lame"), AudioFormat::kMp3);
  expect_first_half(encoded("x.flac", "-c:a flac"), AudioFormat::kFlac);
}

// The original page re-sent the whole recording so far every second, and
// MediaRecorder's chunks end wherever the timer fired: inside an Ogg page or
// a WebM block. Every prefix past the header must decode, growing.
void expect_every_prefix_decodes(const std::string& bytes, std::string_view declared) {
  double previous = 0;
  int flagged = 0;
  for (int i = 2; i <= 20; ++i) {
    const std::string prefix = bytes.substr(0, bytes.size() * static_cast<std::size_t>(i) / 20);
    auto decoded = decode_audio_with_info(prefix, declared);
    ASSERT_TRUE(decoded.ok()) << i << "/20: " << decoded.error().message;
    const double got = decoded->audio.duration_s();
    EXPECT_GE(got, previous) << i << "/20";
    previous = got;
    flagged += decoded->info.truncated ? 1 : 0;
    if (i == 20) {
      EXPECT_FALSE(decoded->info.truncated);
    }
  }
  EXPECT_NEAR(previous, seconds(reference().size()), 0.003);
  EXPECT_GE(flagged, 15);  // almost every cut lands inside a page or block
}

TEST(DecoderTest, GrowingOggOpusFileDecodesAtEveryCut) {
  // Small pages, as MediaRecorder writes them.
  expect_every_prefix_decodes(encoded("small_pages.ogg", "-c:a libopus -page_duration 100000"),
                              "audio/ogg");
}

TEST(DecoderTest, GrowingLiveWebmOpusFileDecodesAtEveryCut) {
  // Written to a pipe in live mode, like MediaRecorder: unknown-size Segment
  // and Clusters, no duration, no cues.
  const std::string webm = encoded("live.webm", "-c:a libopus -f webm -live 1 pipe:1 >");
  const std::string unknown_size_segment("\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff", 12);
  ASSERT_NE(webm.find(unknown_size_segment), std::string::npos);
  expect_every_prefix_decodes(webm, "audio/webm;codecs=opus");
}

// --- Real speech and concurrency --------------------------------------------

TEST(DecoderTest, JfkWavAndItsOpusEncodingAgree) {
  const char* home = std::getenv("HOME");
  ASSERT_NE(home, nullptr);
  fs::path tarball;
  for (const auto& entry : fs::directory_iterator(fs::path(home) / ".cache/scribepod/downloads")) {
    if (entry.path().filename().string().starts_with("nodejs-whisper-")) tarball = entry.path();
  }
  ASSERT_FALSE(tarball.empty())
      << "nodejs-whisper tarball missing from ~/.cache/scribepod/downloads";
  const std::string member = "package/cpp/whisper.cpp/bindings/go/samples/jfk.wav";
  const std::string stamp = std::to_string(fs::last_write_time(tarball).time_since_epoch().count());
  const fs::path wav_path =
      generated("jfk.wav", tarball.string() + stamp, [&](const std::string& out) {
        return "tar -xzOf " + tarball.string() + " " + member + " > " + out;
      });
  const fs::path ogg_path =
      generated("jfk.ogg", tarball.string() + stamp, [&](const std::string& out) {
        return "ffmpeg -nostdin -v error -y -i " + wav_path.string() + " -c:a libopus " + out;
      });

  auto wav = decode_audio_with_info(read_file(wav_path));
  ASSERT_TRUE(wav.ok()) << wav.error().message;
  EXPECT_EQ(wav->info.source_sample_rate, 16000);
  EXPECT_NEAR(wav->audio.duration_s(), 11.0, 0.01);
  auto ogg = decode_audio(read_file(ogg_path), "audio/ogg;codecs=opus");
  ASSERT_TRUE(ogg.ok()) << ogg.error().message;
  EXPECT_NEAR(ogg->duration_s(), wav->audio.duration_s(), 0.005);
  const Alignment a = align(ogg->samples, wav->audio.samples, 16);
  EXPECT_GT(a.correlation, 0.98);
  EXPECT_LE(std::abs(a.lag), 16);
}

TEST(DecoderTest, ConcurrentDecodesGiveTheSameAnswer) {
  const std::string ogg = encoded("opus.ogg", "-c:a libopus");
  const std::string mp3 = encoded("lame.mp3", "-c:a libmp3lame");
  auto serial_ogg = decode_audio(ogg);
  auto serial_mp3 = decode_audio(mp3);
  ASSERT_TRUE(serial_ogg.ok() && serial_mp3.ok());
  std::vector<std::vector<float>> results(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      auto r = decode_audio(i % 2 == 0 ? ogg : mp3);
      if (r.ok()) results[i] = std::move(r->samples);
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i], i % 2 == 0 ? serial_ogg->samples : serial_mp3->samples) << i;
  }
}

}  // namespace
}  // namespace scribepod::audio
