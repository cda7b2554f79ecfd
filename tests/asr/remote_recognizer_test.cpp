// The remote recognizer against FakeTranscriptionServer, a test double of an
// OpenAI-compatible server on loopback (remote_test_peer.h), with real
// recorded speech as the upload.
#include "asr/remote/remote_recognizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "asr/remote/wav_writer.h"
#include "remote_test_peer.h"

namespace scribepod::asr {
namespace {

using scribepod::testing::FakeTranscriptionServer;
using std::chrono::milliseconds;

constexpr const char* kKey = "sk-remote-test-0123";
constexpr const char* kGoForward = "/usr/share/pocketsphinx/test/data/goforward.raw";

// "go forward ten meters": 16 kHz s16le raw, recorded speech.
audio::PcmAudio load_goforward() {
  std::ifstream in(kGoForward, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  audio::PcmAudio audio;
  audio.samples.reserve(bytes.size() / 2);
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    const auto v = static_cast<std::int16_t>(static_cast<unsigned char>(bytes[i]) |
                                             static_cast<unsigned char>(bytes[i + 1]) << 8);
    audio.samples.push_back(static_cast<float>(v) / 32768.0F);
  }
  return audio;
}

RemoteAsrParams params_for(const std::string& url, const std::string& key = kKey) {
  RemoteAsrParams p = RemoteAsrParams::default_params();
  p.base_url = url;
  p.api_key = key;
  p.timeouts.total_timeout = milliseconds(5000);
  p.retry.base_delay = milliseconds(20);
  return p;
}

std::unique_ptr<Recognizer> make(const RemoteAsrParams& p) {
  auto r = make_remote_recognizer(p);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return std::move(r).value();
}

const char* kGoForwardReply = R"({
  "task": "transcribe", "language": "english", "duration": 2.79,
  "text": " Go forward ten meters.",
  "segments": [
    {"id": 0, "seek": 0, "start": 0.0, "end": 1.2, "text": " Go forward", "avg_logprob": -0.2},
    {"id": 1, "seek": 0, "start": 1.2, "end": 2.6, "text": " ten meters.", "avg_logprob": -0.3}
  ],
  "words": [
    {"word": "Go", "start": 0.32, "end": 0.5},
    {"word": "forward", "start": 0.5, "end": 1.1},
    {"word": "ten", "start": 1.3, "end": 1.6},
    {"word": "meters", "start": 1.7, "end": 2.4}
  ]
})";

TEST(RemoteRecognizerTest, UploadsValidWavAndParsesVerboseJson) {
  ASSERT_TRUE(std::filesystem::exists(kGoForward)) << "install pocketsphinx-testdata";
  FakeTranscriptionServer server(kKey);
  server.push(
      {.status = 200, .headers = {{"Content-Type", "application/json"}}, .body = kGoForwardReply});
  auto recognizer = make(params_for(server.url()));
  EXPECT_EQ(recognizer->name(), "remote");
  EXPECT_EQ(recognizer->describe(), "whisper-1 at " + server.url() + " (circuit closed)");

  const audio::PcmAudio speech = load_goforward();
  TranscribeOptions options;
  options.word_timestamps = true;
  auto t = recognizer->transcribe(speech, options);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->text, "Go forward ten meters.");
  EXPECT_EQ(t->engine, "remote");
  EXPECT_EQ(t->language, "en");  // "english" in the reply
  EXPECT_NEAR(t->audio_s, speech.duration_s(), 1e-9);
  EXPECT_GT(t->decode_ms, 0.0);
  ASSERT_EQ(t->segments.size(), 2u);
  EXPECT_EQ(t->segments[0].text, "Go forward");
  EXPECT_DOUBLE_EQ(t->segments[1].start_s, 1.2);
  EXPECT_DOUBLE_EQ(t->segments[1].end_s, 2.6);
  ASSERT_EQ(t->segments[0].words.size(), 2u);
  ASSERT_EQ(t->segments[1].words.size(), 2u);
  EXPECT_EQ(t->segments[1].words[1].text, "meters");
  EXPECT_DOUBLE_EQ(t->segments[1].words[1].end_s, 2.4);

  const auto uploads = server.uploads();
  ASSERT_EQ(uploads.size(), 1u);
  const auto& up = uploads[0];
  EXPECT_TRUE(up.wav_valid) << up.wav_problem;
  EXPECT_EQ(up.sample_rate, 16000);
  EXPECT_EQ(up.channels, 1);
  EXPECT_EQ(up.bits, 16);
  ASSERT_EQ(up.samples.size(), speech.samples.size());
  int worst = 0;
  for (size_t i = 0; i < speech.samples.size(); ++i) {
    const int original = static_cast<int>(std::lrint(speech.samples[i] * 32768.0F));
    worst = std::max(worst, std::abs(original - up.samples[i]));
  }
  EXPECT_LE(worst, 1) << "the WAV must carry the same samples";
  EXPECT_EQ(up.file_name, "audio.wav");
  EXPECT_EQ(up.file_content_type, "audio/wav");
  EXPECT_EQ(up.field("model"), "whisper-1");
  EXPECT_EQ(up.field("response_format"), "verbose_json");
  EXPECT_EQ(up.all("timestamp_granularities[]"), (std::vector<std::string>{"segment", "word"}));
  EXPECT_EQ(up.field("language"), "");  // none asked: the server detects
}

TEST(RemoteRecognizerTest, SendsApiKeyAndWrongKeyFailsWithoutRetry) {
  FakeTranscriptionServer server(kKey);
  const audio::PcmAudio speech = load_goforward();
  ASSERT_TRUE(make(params_for(server.url()))->transcribe(speech, {}).ok());
  EXPECT_EQ(server.uploads().at(0).authorization, std::string("Bearer ") + kKey);

  auto wrong = make(params_for(server.url(), "sk-wrong"))->transcribe(speech, {});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(wrong.error().message, "backend remote-asr answered 401: Incorrect API key provided");
  EXPECT_EQ(server.request_count(), 2u);  // 401 is not retried
}

TEST(RemoteRecognizerTest, ServiceUnavailableIsRetried) {
  FakeTranscriptionServer server(kKey);
  server.push({.status = 503, .body = R"({"error":{"message":"overloaded"}})"});
  server.push({.status = 200, .body = kGoForwardReply});
  auto t = make(params_for(server.url()))->transcribe(load_goforward(), {});
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->text, "Go forward ten meters.");
  EXPECT_EQ(server.request_count(), 2u);
  for (const auto& up : server.uploads()) EXPECT_TRUE(up.wav_valid);  // the retry re-sends the file
}

TEST(RemoteRecognizerTest, PersistentOutageEndsWithUnavailable) {
  FakeTranscriptionServer server(kKey);
  for (int i = 0; i < 3; ++i) server.push({.status = 503, .body = "busy"});
  auto t = make(params_for(server.url()))->transcribe(load_goforward(), {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(RemoteRecognizerTest, ReadinessFollowsTheCircuit) {
  FakeTranscriptionServer server(kKey);
  RemoteAsrParams p = params_for(server.url());
  p.retry.max_attempts = 1;
  p.breaker.failure_threshold = 2;
  p.breaker.cooldown = milliseconds(300);
  auto recognizer = make(p);
  std::string detail;
  EXPECT_TRUE(recognizer->ready(detail));
  for (int i = 0; i < 2; ++i) {
    server.push({.status = 500, .body = "down"});
    EXPECT_FALSE(recognizer->transcribe(load_goforward(), {}).ok());
  }
  EXPECT_FALSE(recognizer->ready(detail));
  EXPECT_NE(detail.find("circuit open"), std::string::npos) << detail;
  std::this_thread::sleep_for(milliseconds(350));
  EXPECT_TRUE(recognizer->ready(detail)) << detail;  // half-open: the next call probes
  server.push({.status = 200, .body = kGoForwardReply});
  EXPECT_TRUE(recognizer->transcribe(load_goforward(), {}).ok());
  EXPECT_TRUE(recognizer->ready(detail));
  EXPECT_NE(detail.find("circuit closed"), std::string::npos) << detail;
}

TEST(RemoteRecognizerTest, InvalidJsonIsAClearUpstreamError) {
  FakeTranscriptionServer server(kKey);
  server.push({.status = 200, .body = "<html>Bad gateway page</html>"});
  server.push({.status = 200, .body = R"({"transcript": "wrong schema"})"});
  auto recognizer = make(params_for(server.url()));
  auto t = recognizer->transcribe(load_goforward(), {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(t.error().message,
            "backend remote-asr sent an unusable transcription: not JSON (starts with \"<html>Bad "
            "gateway "
            "page</html>\")");
  auto t2 = recognizer->transcribe(load_goforward(), {});
  ASSERT_FALSE(t2.ok());
  EXPECT_EQ(
      t2.error().message,
      "backend remote-asr sent an unusable transcription: no \"text\" string in the JSON reply");
  EXPECT_EQ(server.request_count(), 2u);  // a 200 is an answer: no retry
}

TEST(RemoteRecognizerTest, PassesLanguagePromptTemperatureAndModel) {
  FakeTranscriptionServer server(kKey);
  server.push({.status = 200, .body = R"({"text":"Hallo","language":"german","segments":[]})"});
  RemoteAsrParams p = params_for(server.url());
  p.model = "Systran/faster-whisper-small";
  TranscribeOptions options;
  options.language = "de";
  options.prompt = "Ein Test.";
  options.temperature = 0.2F;
  auto t = make(p)->transcribe(load_goforward(), options);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->language, "de");
  ASSERT_EQ(t->segments.size(), 1u);  // text without segments becomes one
  EXPECT_EQ(t->segments[0].text, "Hallo");
  const auto up = server.uploads().at(0);
  EXPECT_EQ(up.field("language"), "de");
  EXPECT_EQ(up.field("prompt"), "Ein Test.");
  EXPECT_EQ(up.field("temperature"), "0.2");
  EXPECT_EQ(up.field("model"), "Systran/faster-whisper-small");
  EXPECT_TRUE(up.all("timestamp_granularities[]").empty());
}

TEST(RemoteRecognizerTest, DefaultLanguageFromParamsAndAutoMeansDetect) {
  FakeTranscriptionServer server(kKey);
  RemoteAsrParams p = params_for(server.url());
  p.language = "fr";
  ASSERT_TRUE(make(p)->transcribe(load_goforward(), {}).ok());
  p.language = "auto";
  ASSERT_TRUE(make(p)->transcribe(load_goforward(), {}).ok());
  EXPECT_EQ(server.uploads().at(0).field("language"), "fr");
  EXPECT_EQ(server.uploads().at(1).field("language"), "");
}

TEST(RemoteRecognizerTest, StreamBuffersAndSendsOnceAtFinalize) {
  FakeTranscriptionServer server(kKey);
  server.push({.status = 200, .body = kGoForwardReply});
  auto recognizer = make(params_for(server.url()));
  TranscribeOptions options;
  options.language = "en";
  auto stream = recognizer->open_stream(options);
  ASSERT_TRUE(stream.ok());
  const audio::PcmAudio speech = load_goforward();
  const std::span<const float> all(speech.samples);
  for (size_t at = 0; at < all.size(); at += 320) {
    ASSERT_TRUE((*stream)->feed(all.subspan(at, std::min<size_t>(320, all.size() - at))).ok());
    ASSERT_EQ(*(*stream)->partial(), "");
  }
  EXPECT_EQ(server.request_count(), 0u);
  recognizer.reset();  // the stream outlives its recognizer
  auto t = (*stream)->finalize();
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->text, "Go forward ten meters.");
  EXPECT_EQ(server.request_count(), 1u);
  EXPECT_EQ(server.uploads().at(0).samples.size(), speech.samples.size());
  EXPECT_FALSE((*stream)->finalize().ok());
  EXPECT_FALSE((*stream)->feed(all.subspan(0, 10)).ok());
}

TEST(RemoteRecognizerTest, EmptyAudioMakesNoRequestAndLongAudioIsRefused) {
  FakeTranscriptionServer server(kKey);
  RemoteAsrParams p = params_for(server.url());
  p.max_audio_s = 2.0;
  auto recognizer = make(p);
  auto empty = recognizer->transcribe({}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->text, "");
  auto long_audio = recognizer->transcribe(load_goforward(), {});  // 2.79 s
  ASSERT_FALSE(long_audio.ok());
  EXPECT_EQ(long_audio.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(RemoteRecognizerTest, UnreachableServerIsUpstreamFailedNamingTheUrl) {
  const std::string url = "http://127.0.0.1:" + std::to_string(scribepod::testing::unused_port());
  auto t = make(params_for(url))->transcribe(load_goforward(), {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_NE(t.error().message.find("cannot connect to " + url + "/v1/audio/transcriptions"),
            std::string::npos)
      << t.error().message;
}

TEST(RemoteRecognizerTest, BaseUrlWithV1IsNotDoubledAndBadUrlsAreRejected) {
  FakeTranscriptionServer server(kKey);
  ASSERT_TRUE(make(params_for(server.url() + "/v1/"))->transcribe(load_goforward(), {}).ok());
  EXPECT_EQ(server.uploads().at(0).path, "/v1/audio/transcriptions");
  for (const char* bad : {"", "api.openai.com", "ftp://x", "http://"}) {
    auto r = make_remote_recognizer(params_for(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidConfig);
  }
}

TEST(RemoteRecognizerTest, LanguageNamesMapToCodes) {
  EXPECT_EQ(whisper_language_code("english"), "en");
  EXPECT_EQ(whisper_language_code("German"), "de");
  EXPECT_EQ(whisper_language_code("cantonese"), "yue");
  EXPECT_EQ(whisper_language_code("en"), "en");
  EXPECT_EQ(whisper_language_code("klingon"), "klingon");
}

// The WAV is checked by an independent reader too: ffmpeg must decode it
// back to the same PCM.
TEST(WavWriterTest, FfmpegDecodesItToTheSameSamples) {
  const audio::PcmAudio speech = load_goforward();
  const auto dir =
      std::filesystem::temp_directory_path() / ("scribepod-wav-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "in.wav", std::ios::binary) << encode_wav_pcm16(speech); }
  const std::string cmd = "ffmpeg -v error -y -i " + (dir / "in.wav").string() +
                          " -f s16le -ac 1 -ar 16000 " + (dir / "out.raw").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream out(dir / "out.raw", std::ios::binary);
  const std::string pcm((std::istreambuf_iterator<char>(out)), {});
  std::ifstream original(kGoForward, std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(original)), {});
  std::filesystem::remove_all(dir);
  ASSERT_EQ(pcm.size(), raw.size());
  size_t off_by_more_than_one = 0;
  for (size_t i = 0; i + 1 < raw.size(); i += 2) {
    const int a = static_cast<std::int16_t>(static_cast<unsigned char>(raw[i]) |
                                            static_cast<unsigned char>(raw[i + 1]) << 8);
    const int b = static_cast<std::int16_t>(static_cast<unsigned char>(pcm[i]) |
                                            static_cast<unsigned char>(pcm[i + 1]) << 8);
    if (std::abs(a - b) > 1) ++off_by_more_than_one;
  }
  EXPECT_EQ(off_by_more_than_one, 0u);
}

TEST(WavWriterTest, HeaderAndClamping) {
  const std::string wav = encode_wav_pcm16({.samples = {0.0F, 1.0F, -1.0F, 2.0F, -3.0F, 0.5F}});
  ASSERT_EQ(wav.size(), 44u + 12u);
  EXPECT_EQ(wav.substr(0, 4), "RIFF");
  EXPECT_EQ(wav.substr(8, 8), "WAVEfmt ");
  EXPECT_EQ(wav.substr(36, 4), "data");
  auto s16 = [&](size_t i) {
    return static_cast<std::int16_t>(static_cast<unsigned char>(wav[44 + 2 * i]) |
                                     static_cast<unsigned char>(wav[45 + 2 * i]) << 8);
  };
  EXPECT_EQ(s16(0), 0);
  EXPECT_EQ(s16(1), 32767);
  EXPECT_EQ(s16(2), -32767);
  EXPECT_EQ(s16(3), 32767);
  EXPECT_EQ(s16(4), -32767);
  EXPECT_EQ(s16(5), 16384);  // 16383.5 rounds to even
}

}  // namespace
}  // namespace scribepod::asr
