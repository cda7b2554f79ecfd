// Flow control and errors of the live pipeline: partials coalesced and
// `busy` sent while every final is delivered (with a deliberately slow
// recogniser test double), the backlog and rate limits, malformed input,
// and Opus input.
#include <gtest/gtest.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
}

#include <iostream>

#include "live/utterance_segmenter.h"
#include "live_test_support.h"

namespace scribepod::live::testing {
namespace {

// A test double, not a recogniser: it hears no words, and each feed()
// sleeps for `slowness` of the audio's duration, so a session fed faster
// than that falls behind. Partials and finals say how much audio they saw.
class SlowNoOpRecognizer final : public asr::Recognizer {
 public:
  explicit SlowNoOpRecognizer(double slowness) : slowness_(slowness) {}
  std::string name() const override { return "slow-noop"; }
  std::string describe() const override { return "test double"; }
  Result<asr::Transcript> transcribe(const audio::PcmAudio&,
                                     const asr::TranscribeOptions&) override {
    return Error::internal("not used");
  }
  Result<std::unique_ptr<asr::RecognizerStream>> open_stream(
      const asr::TranscribeOptions&) override {
    return std::unique_ptr<asr::RecognizerStream>(std::make_unique<Stream>(slowness_));
  }

 private:
  class Stream final : public asr::RecognizerStream {
   public:
    explicit Stream(double slowness) : slowness_(slowness) {}
    Status feed(std::span<const float> samples) override {
      samples_ += samples.size();
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(
          slowness_ * static_cast<double>(samples.size()) / 16.0));
      return {};
    }
    Result<std::string> partial() override { return "heard " + std::to_string(samples_ / 16); }
    Result<asr::Transcript> finalize() override {
      asr::Transcript t;
      t.text = "utterance of " + std::to_string(samples_ / 16) + " ms";
      return t;
    }

   private:
    double slowness_;
    std::size_t samples_ = 0;
  };
  double slowness_;
};

std::vector<float> speech_stream() {
  auto gf = samples::read_raw(samples::kPocketSphinxData / "goforward.raw").samples;
  auto td = samples::read_raw(samples::kPocketSphinxData / "tidigits/dhd.2934z.raw").samples;
  std::vector<float> audio = silence(0.3);
  for (int i = 0; i < 2; ++i) {
    append(audio, gf);
    append(audio, silence(0.8));
    append(audio, td);
    append(audio, silence(0.8));
  }
  return audio;
}

// How many utterances the segmenter makes of `audio` on its own.
std::size_t utterances_in(const std::vector<float>& audio) {
  auto seg = UtteranceSegmenter::create(SegmenterParams::default_params());
  EXPECT_TRUE(seg.ok());
  std::size_t n = 0;
  for (std::size_t i = 0; i < audio.size(); i += 1600) {
    const std::size_t len = std::min<std::size_t>(1600, audio.size() - i);
    for (auto& f : seg->process(std::span<const float>(audio).subspan(i, len))) {
      n += std::holds_alternative<SpeechEnd>(f) ? 1U : 0U;
    }
  }
  for (auto& f : seg->close(EndReason::kStop)) n += std::holds_alternative<SpeechEnd>(f) ? 1U : 0U;
  return n;
}

TEST(LiveFlow, SlowRecogniserCoalescesPartialsSendsBusyAndDeliversEveryFinal) {
  Rig rig;
  rig.recognizer = std::make_shared<SlowNoOpRecognizer>(0.5);
  EventCollector c;
  auto s = rig.open(c);
  s->on_text(kStart);
  const auto audio = speech_stream();
  stream_pcm(*s, audio, 1ms);  // 100x real time: the session falls behind
  s->on_text(R"({"type":"stop"})");
  ASSERT_TRUE(c.wait_closed(120s));
  EXPECT_EQ(c.close_code(), 1000);
  const auto ev = c.events();
  check_guarantees(ev);
  const auto finals = EventCollector::of_type(ev, "final");
  EXPECT_EQ(finals.size(), utterances_in(audio));
  EXPECT_GE(finals.size(), 4U);
  const auto busy = EventCollector::of_type(ev, "busy");
  ASSERT_GE(busy.size(), 1U);
  EXPECT_EQ(busy[0]["reason"], "behind");
  EXPECT_GT(int64_t(busy[0]["retry_after_ms"]), 0);
  int dropped = 0;
  for (const auto& st : EventCollector::of_type(ev, "stats"))
    dropped += int(st["partials_dropped"]);
  EXPECT_GT(dropped, 0);
  std::cout << "[overload] finals " << finals.size() << " partials "
            << EventCollector::count(ev, "partial") << " dropped " << dropped << " busy "
            << busy.size() << "\n";
}

TEST(LiveFlow, BacklogOverTheLimitClosesWith1013) {
  Rig rig;
  rig.recognizer = std::make_shared<SlowNoOpRecognizer>(0.5);
  rig.live.max_backlog = 2000ms;
  EventCollector c;
  auto s = rig.open(c);
  s->on_text(kStart);
  stream_pcm(*s, speech_stream(), 0ms);
  ASSERT_TRUE(c.wait_closed());
  EXPECT_EQ(c.close_code(), 1013);
  EXPECT_EQ(c.events().back()["code"], "unavailable");
  EXPECT_TRUE(wait_finished(*s));
}

TEST(LiveFlow, AudioFasterThanTheRateLimitIsRefused) {
  Rig rig;
  rig.live.max_realtime_factor = 4;
  const auto frozen = std::chrono::steady_clock::now();
  rig.now = [frozen] { return frozen; };  // no wall time passes at all
  EventCollector c;
  auto s = rig.open(c);
  s->on_text(kStart);
  stream_pcm(*s, silence(6), 0ms);  // more than the 5 s burst
  ASSERT_TRUE(c.wait_closed());
  EXPECT_EQ(c.close_code(), 1008);
  EXPECT_EQ(c.events().back()["code"], "rate_limited");
}

struct ErrorCase {
  const char* name;
  std::function<void(StreamSession&)> send;
  int close_code;
  const char* code;
};

TEST(LiveFlow, MalformedInputGetsAnErrorAndTheDocumentedClose) {
  const std::vector<uint8_t> odd(3, 0);
  const std::vector<uint8_t> big(64 * 1024 + 2, 0);
  const std::vector<uint8_t> fine(3200, 0);
  const std::vector<ErrorCase> cases = {
      {"malformed JSON", [](StreamSession& s) { s.on_text("{\"type\":"); }, 1007, "bad_request"},
      {"unknown type", [](StreamSession& s) { s.on_text(R"({"type":"hello"})"); }, 1007,
       "bad_request"},
      {"audio before start", [&](StreamSession& s) { s.on_audio(fine); }, 1003, "bad_request"},
      {"end_of_turn before start", [](StreamSession& s) { s.on_text(R"({"type":"end_of_turn"})"); },
       1003, "bad_request"},
      {"unknown encoding",
       [](StreamSession& s) {
         s.on_text(R"({"type":"start","sample_rate":16000,"encoding":"flac"})");
       },
       1003, "bad_request"},
      {"partial sample",
       [&](StreamSession& s) {
         s.on_text(kStart);
         s.on_audio(odd);
       },
       1007, "bad_request"},
      {"oversized frame",
       [&](StreamSession& s) {
         s.on_text(kStart);
         s.on_audio(big);
       },
       1009, "payload_too_large"},
      {"start twice",
       [](StreamSession& s) {
         s.on_text(kStart);
         s.on_text(kStart);
       },
       1007, "bad_request"},
      {"resume of an unknown session",
       [](StreamSession& s) {
         s.on_text(R"({"type":"start","sample_rate":16000,"encoding":"pcm16",)"
                   R"("session_id":"6f1c1f0e-1b1a-4c1e-9a57-3a7c1d2b9e10","resume_token":"ab"})");
       },
       1008, "bad_request"},
  };
  Rig rig;
  for (const ErrorCase& k : cases) {
    EventCollector c;
    auto s = rig.open(c);
    k.send(*s);
    ASSERT_TRUE(c.wait_closed(10s)) << k.name;
    EXPECT_EQ(c.close_code(), k.close_code) << k.name;
    const auto ev = c.events();
    ASSERT_FALSE(ev.empty()) << k.name;
    EXPECT_EQ(ev.back()["type"], "error") << k.name;
    EXPECT_EQ(ev.back()["code"], k.code) << k.name;
    s->on_audio(fine);  // ignored after the close
    EXPECT_TRUE(wait_finished(*s)) << k.name;
  }
}

// Raw Opus packets, one per frame, as WebCodecs sends them (encoded here with
// libavcodec's libopus encoder).
std::vector<std::vector<uint8_t>> opus_packets(const std::vector<float>& audio16k) {
  std::vector<std::vector<uint8_t>> out;
  const AVCodec* codec = avcodec_find_encoder_by_name("libopus");
  if (codec == nullptr) return out;
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  ctx->sample_rate = 16000;
  av_channel_layout_default(&ctx->ch_layout, 1);
  ctx->sample_fmt = AV_SAMPLE_FMT_S16;
  ctx->bit_rate = 32000;
  if (avcodec_open2(ctx, codec, nullptr) < 0) {
    avcodec_free_context(&ctx);
    return out;
  }
  AVFrame* frame = av_frame_alloc();
  AVPacket* pkt = av_packet_alloc();
  const int n = ctx->frame_size;  // 320 = 20 ms
  auto drain = [&] {
    while (avcodec_receive_packet(ctx, pkt) == 0) {
      out.emplace_back(pkt->data, pkt->data + pkt->size);
      av_packet_unref(pkt);
    }
  };
  for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= audio16k.size();
       i += static_cast<std::size_t>(n)) {
    frame->nb_samples = n;
    frame->format = AV_SAMPLE_FMT_S16;
    av_channel_layout_default(&frame->ch_layout, 1);
    frame->sample_rate = 16000;
    EXPECT_EQ(av_frame_get_buffer(frame, 0), 0);
    auto bytes = to_pcm16(std::span<const float>(audio16k).subspan(i, static_cast<std::size_t>(n)));
    std::copy(bytes.begin(), bytes.end(), frame->data[0]);
    EXPECT_EQ(avcodec_send_frame(ctx, frame), 0);
    av_frame_unref(frame);
    drain();
  }
  avcodec_send_frame(ctx, nullptr);
  drain();
  av_packet_free(&pkt);
  av_frame_free(&frame);
  avcodec_free_context(&ctx);
  return out;
}

TEST(LiveFlow, OpusPacketsAreTranscribed) {
  std::vector<float> audio = silence(0.5);
  append(audio, samples::read_raw(samples::kPocketSphinxData / "goforward.raw").samples);
  append(audio, silence(1));
  const auto packets = opus_packets(audio);
  ASSERT_FALSE(packets.empty()) << "FFmpeg has no libopus encoder (libavcodec59 builds it in)";
  Rig rig;
  EventCollector c;
  auto s = rig.open(c);
  s->on_text(R"({"type":"start","sample_rate":16000,"encoding":"opus"})");
  for (const auto& p : packets) s->on_audio(p);
  s->on_text(R"({"type":"stop"})");
  ASSERT_TRUE(c.wait_closed(30s));
  EXPECT_EQ(c.close_code(), 1000);
  const auto finals = EventCollector::of_type(c.events(), "final");
  ASSERT_EQ(finals.size(), 1U);
  EXPECT_EQ(finals[0]["text"], "go forward ten meters");
}

}  // namespace
}  // namespace scribepod::live::testing
