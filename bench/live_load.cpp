// live_load: the load client of bench/live_load.sh. Streams real speech to a
// running `scribepod serve` and measures what a listener sees.
//
//   live_load live PORT N CLIP...      N speakers on GET /v1/stream
//   live_load original PORT CLIP...    one speaker, the original design
//
// Each speaker plays a programme of the clips (16 kHz mono s16le .raw, or a
// WAV of that format): 1 s of silence, then each clip followed by 1.5 s of
// silence, at real-time pace in 100 ms PCM16 frames (frame k is sent at
// t0 + k * 100 ms); speaker i starts 250 ms after speaker i-1 and with its
// clip list rotated by i, so utterances overlap without being in lockstep.
// Then it sends `stop` and reads until the close.
//
// The original design (the pre-rewrite page) instead re-posts the whole
// utterance so far as a WAV to POST /conversation?chunk=N every second of
// speech, and once more at its end, over one keep-alive connection.
//
// Output is machine-readable lines `TAG|field|...` (PARTIAL, FINAL, WORK,
// UTT per utterance, ORIGINAL, TEXT, WER) that live_load.sh turns into markdown
// tables; see the script for what each column means.
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "asr/wer.h"
#include "live_bench_util.h"
#include "speech_samples.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using scribepod::bench::live::Clock;
using scribepod::bench::live::kFrameBytes;
using scribepod::bench::live::kFrameMs;
using scribepod::bench::live::ms_between;
using scribepod::bench::live::pct;
using scribepod::bench::live::read_pcm;
using scribepod::bench::live::wav_of;

constexpr int kLeadMs = 1000;
constexpr int kGapMs = 1500;
constexpr int kStaggerMs = 250;

int64_t pcm_ms(const std::string& pcm) { return static_cast<int64_t>(pcm.size() / 32); }

std::string silence(int ms) { return std::string(static_cast<std::size_t>(ms) * 32, '\0'); }

struct Clip {
  std::string name;
  std::string pcm;
  std::string reference;  // what is said in it ("" when unknown)
};

// The clips' words in order, and the word error rate of `heard` against
// them, as a `WER|row|errors|words` line.
void print_wer(const std::string& row, const std::vector<Clip>& clips, const std::string& heard) {
  std::string reference;
  for (const Clip& c : clips) reference += (reference.empty() ? "" : " ") + c.reference;
  const auto e = scribepod::asr::word_errors(reference, heard);
  std::printf("WER|%s|%zu|%zu\n", row.c_str(), e.errors(), e.reference_words);
}

struct FinalRec {
  Clock::time_point received;
  int64_t end_ms = 0;
  std::string text;
  std::string reason;
  bool has_stats = false;
  double endpoint_wait_ms = 0, final_decode_ms = 0, speech_end_to_final_ms = 0;
  int64_t audio_ms = 0;
};

// One simulated speaker on one WebSocket; all speakers share one thread.
class Speaker : public std::enable_shared_from_this<Speaker> {
 public:
  Speaker(net::io_context& ioc, std::string audio)
      : ws_(ioc), timer_(ioc), audio_(std::move(audio)) {}

  void open(uint16_t port) {
    ws_.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    ws_.handshake("127.0.0.1", "/v1/stream");
    ws_.text(true);
    ws_.write(
        net::buffer(std::string(R"({"type":"start","sample_rate":16000,"encoding":"pcm16"})")));
    beast::flat_buffer b;
    ws_.read(b);
    const auto e = json::parse(beast::buffers_to_string(b.data()));
    if (e.value("type", "") != "session") throw std::runtime_error("no session event: " + e.dump());
  }

  void run(Clock::time_point t0) {
    t0_ = t0;
    read();
    schedule();
  }

  const std::vector<double>& partial_lags() const { return partial_lags_; }
  const std::vector<double>& partial_gaps() const { return partial_gaps_; }
  const std::map<int64_t, FinalRec>& finals() const { return finals_; }
  const std::vector<Clock::time_point>& sent() const { return sent_; }
  int close_code() const { return close_code_; }
  const std::map<std::string, int>& busy() const { return busy_; }

 private:
  void schedule() {
    const std::size_t k = sent_.size();
    if (k * kFrameBytes >= audio_.size()) {
      ws_.text(true);
      ws_.async_write(net::buffer(kStop),
                      [self = shared_from_this()](beast::error_code, std::size_t) {});
      return;
    }
    timer_.expires_at(t0_ + std::chrono::milliseconds(static_cast<int64_t>(k) * kFrameMs));
    timer_.async_wait([self = shared_from_this(), k](beast::error_code ec) {
      if (ec) return;
      self->sent_.push_back(Clock::now());
      self->ws_.binary(true);
      self->ws_.async_write(
          net::buffer(self->audio_.data() + k * kFrameBytes,
                      std::min(kFrameBytes, self->audio_.size() - k * kFrameBytes)),
          [self](beast::error_code wec, std::size_t) {
            if (!wec) self->schedule();
          });
    });
  }

  void read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      const auto now = Clock::now();
      if (ec) {
        self->close_code_ =
            ec == websocket::error::closed ? static_cast<int>(self->ws_.reason().code) : -1;
        self->timer_.cancel();
        return;
      }
      self->on_event(json::parse(beast::buffers_to_string(self->buf_.data())), now);
      self->buf_.consume(self->buf_.size());
      self->read();
    });
  }

  void on_event(const json& e, Clock::time_point now) {
    const std::string type = e.value("type", "");
    if (type == "partial" && !sent_.empty()) {
      // The frame that holds the end of the audio the partial covers
      // (end_ms; a server without it: the latest frame sent, a lower bound).
      std::size_t k = sent_.size() - 1;
      if (e.contains("end_ms")) {
        const int64_t end_ms = e["end_ms"];
        const int64_t frame = (end_ms + kFrameMs - 1) / kFrameMs - 1;
        k = std::min(k, static_cast<std::size_t>(std::max<int64_t>(frame, 0)));
      }
      partial_lags_.push_back(ms_between(sent_[k], now));
      const int64_t id = e.value("utterance_id", int64_t{0});
      if (auto it = last_partial_.find(id); it != last_partial_.end()) {
        partial_gaps_.push_back(ms_between(it->second, now));
      }
      last_partial_[id] = now;
    } else if (type == "final") {
      FinalRec& f = finals_[e["utterance_id"].get<int64_t>()];
      f.received = now;
      f.end_ms = e["end_ms"];
      f.text = e.value("text", "");
      f.reason = e.value("reason", "");
    } else if (type == "stats") {
      FinalRec& f = finals_[e["utterance_id"].get<int64_t>()];
      f.has_stats = true;
      f.endpoint_wait_ms = e["endpoint_wait_ms"];
      f.final_decode_ms = e["final_decode_ms"];
      f.speech_end_to_final_ms = e["speech_end_to_final_ms"];
      f.audio_ms = e["audio_ms"];
    } else if (type == "busy") {
      ++busy_[e.value("reason", "?")];
    }
  }

  static constexpr std::string_view kStop = R"({"type":"stop"})";
  websocket::stream<tcp::socket> ws_;
  net::steady_timer timer_;
  std::string audio_;
  beast::flat_buffer buf_;
  Clock::time_point t0_;
  std::vector<Clock::time_point> sent_;  // send time of frame k
  std::vector<double> partial_lags_;
  // Time from one partial of an utterance to its next (how long the text
  // on screen stays as it is while someone speaks).
  std::vector<double> partial_gaps_;
  std::map<int64_t, Clock::time_point> last_partial_;  // by utterance id
  std::map<int64_t, FinalRec> finals_;
  int close_code_ = 0;
  std::map<std::string, int> busy_;  // busy events by reason
};

// The programme of speaker `i`: lead silence, then the rotated clips with gaps.
std::string programme(const std::vector<Clip>& clips, std::size_t i, double* speech_s) {
  std::string a = silence(kLeadMs);
  for (std::size_t c = 0; c < clips.size(); ++c) {
    const Clip& clip = clips[(c + i) % clips.size()];
    a += clip.pcm + silence(kGapMs);
    *speech_s += static_cast<double>(pcm_ms(clip.pcm)) / 1000.0;
  }
  a.resize((a.size() + kFrameBytes - 1) / kFrameBytes * kFrameBytes, '\0');
  return a;
}

int run_live(uint16_t port, std::size_t n, const std::vector<Clip>& clips) {
  net::io_context ioc;
  std::vector<std::shared_ptr<Speaker>> speakers;
  double speech_s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    speakers.push_back(std::make_shared<Speaker>(ioc, programme(clips, i, &speech_s)));
    speakers.back()->open(port);
  }
  const auto t0 = Clock::now() + std::chrono::milliseconds(200);
  for (std::size_t i = 0; i < n; ++i) {
    speakers[i]->run(t0 + std::chrono::milliseconds(static_cast<int64_t>(i) * kStaggerMs));
  }
  ioc.run();

  std::vector<double> lags, gaps, waits, totals, over_wait, after_ep, decode, server_e2f;
  double recognised_s = 0;
  std::size_t utterances = 0, closes_ok = 0;
  std::string other_closes;  // close codes other than 1000
  std::map<std::string, int> busy;
  for (const auto& s : speakers) {
    lags.insert(lags.end(), s->partial_lags().begin(), s->partial_lags().end());
    gaps.insert(gaps.end(), s->partial_gaps().begin(), s->partial_gaps().end());
    if (s->close_code() == 1000) ++closes_ok;
    if (s->close_code() != 1000) other_closes += " " + std::to_string(s->close_code());
    for (const auto& [reason, count] : s->busy()) busy[reason] += count;
    const auto& sent = s->sent();
    for (const auto& [id, f] : s->finals()) {
      if (!f.has_stats || sent.empty()) continue;
      ++utterances;
      // Frame k carries audio [100k, 100k+100) ms: the end of speech arrived
      // with the frame holding its last millisecond, the endpoint with the
      // frame holding the last millisecond of the silence waited for.
      const auto frame_of = [&](double ms) {
        return std::min(static_cast<std::size_t>(std::max(ms - 1.0, 0.0) / kFrameMs),
                        sent.size() - 1);
      };
      const double eos = static_cast<double>(f.end_ms);
      const double total = ms_between(sent[frame_of(eos)], f.received);
      totals.push_back(total);
      waits.push_back(f.endpoint_wait_ms);
      over_wait.push_back(total - f.endpoint_wait_ms);
      after_ep.push_back(ms_between(sent[frame_of(eos + f.endpoint_wait_ms)], f.received));
      decode.push_back(f.final_decode_ms);
      server_e2f.push_back(f.speech_end_to_final_ms);
      recognised_s += (static_cast<double>(f.audio_ms) + f.endpoint_wait_ms) / 1000.0;
      std::printf("UTT|%zu|%lld|%s|%lld|%.0f|%.0f|%.0f|%.0f|%.0f\n", n, static_cast<long long>(id),
                  f.reason.c_str(), static_cast<long long>(f.end_ms), f.endpoint_wait_ms, total,
                  after_ep.back(), f.final_decode_ms, f.speech_end_to_final_ms);
    }
  }
  std::string busy_text;
  for (const auto& [reason, count] : busy) busy_text += reason + " " + std::to_string(count) + " ";
  std::printf("PARTIAL|%zu|%zu|%.0f|%.0f|%.0f|%s|%.0f|%.0f|%.0f\n", n, lags.size(), pct(lags, 50),
              pct(lags, 95), pct(lags, 100), busy_text.empty() ? "0" : busy_text.c_str(),
              pct(gaps, 50), pct(gaps, 95), pct(gaps, 100));
  std::printf("FINAL|%zu|%zu/%zu|%.0f|%.0f|%.0f|%.0f|%.0f|%.0f|%.0f|%.0f|%.0f|%.0f|%zu/%zu%s\n", n,
              utterances, n * clips.size(), pct(waits, 50), pct(waits, 95), pct(totals, 50),
              pct(totals, 95), pct(over_wait, 50), pct(over_wait, 95), pct(after_ep, 50),
              pct(after_ep, 95), pct(decode, 50), pct(decode, 95), closes_ok, n,
              other_closes.c_str());
  std::printf("WORK|%zu|%.1f|%.1f|%.0f|%.0f\n", n, recognised_s, speech_s, pct(lags, 50),
              pct(lags, 95));
  std::string heard;  // speaker 1's finals in order
  for (const auto& [id, f] : speakers[0]->finals()) {
    std::printf("TEXT|live|%lld|%s\n", static_cast<long long>(id), f.text.c_str());
    heard += " " + f.text;
  }
  print_wer(std::to_string(n), clips, heard);
  return 0;
}

// The original design: the utterance so far re-posted every second.
int run_original(uint16_t port, const std::vector<Clip>& clips) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  stream.connect(ep);
  std::string session;
  std::vector<double> latencies, final_latencies;
  double sent_s = 0, speech_s = 0;
  std::size_t posts = 0, failures = 0;
  auto post = [&](const std::string& pcm, int chunk, std::string* text) {
    const std::string boundary = "livebench7d1c";
    std::string body =
        "--" + boundary +
        "\r\nContent-Disposition: form-data; name=\"audio_data\"; filename=\"chunk.wav\"\r\n"
        "Content-Type: audio/wav\r\n\r\n" +
        wav_of(pcm) + "\r\n--" + boundary + "--\r\n";
    http::request<http::string_body> req{http::verb::post,
                                         "/conversation?chunk=" + std::to_string(chunk), 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "multipart/form-data; boundary=" + boundary);
    req.set(http::field::accept, "application/json");
    if (!session.empty()) req.set("X-Session-Id", session);
    req.body() = std::move(body);
    req.prepare_payload();
    const auto began = Clock::now();
    http::write(stream, req);
    beast::flat_buffer b;
    http::response<http::string_body> res;
    http::read(stream, b, res);
    const double ms = ms_between(began, Clock::now());
    ++posts;
    sent_s += static_cast<double>(pcm_ms(pcm)) / 1000.0;
    if (res.result() != http::status::ok) {
      ++failures;
      std::fprintf(stderr, "POST /conversation: %u %s\n", res.result_int(), res.body().c_str());
    } else {
      const auto j = json::parse(res.body());
      session = j.value("sessionId", session);
      *text = j.value("transcriptionResponse", "");
    }
    if (!res.keep_alive()) {
      stream.close();
      stream.connect(ep);
    }
    return ms;
  };
  auto at = Clock::now() + std::chrono::milliseconds(kLeadMs);
  int utt = 0;
  std::string heard;  // its last POST's text per clip, in order
  for (const Clip& clip : clips) {
    ++utt;
    const int64_t len = pcm_ms(clip.pcm);
    speech_s += static_cast<double>(len) / 1000.0;
    std::string text;
    int chunk = 0;
    for (int64_t upto = 1000;; upto += 1000) {
      const int64_t cut = std::min(upto, len);
      std::this_thread::sleep_until(at + std::chrono::milliseconds(cut));
      const double ms =
          post(clip.pcm.substr(0, static_cast<std::size_t>(cut) * 32), ++chunk, &text);
      latencies.push_back(ms);
      if (cut == len) {
        final_latencies.push_back(ms);
        break;
      }
    }
    std::printf("TEXT|original|%d|%s\n", utt, text.c_str());
    heard += " " + text;
    at = std::max(at + std::chrono::milliseconds(len + kGapMs), Clock::now());
  }
  print_wer("original, 1", clips, heard);
  std::printf("ORIGINAL|%zu|%zu|%.1f|%.1f|%.0f|%.0f|%.0f|%.0f|%.0f\n", posts, failures, sent_s,
              speech_s, pct(latencies, 50), pct(latencies, 95), pct(latencies, 100),
              pct(final_latencies, 50), pct(final_latencies, 95));
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const bool live = !args.empty() && args[0] == "live";
  const std::size_t first_clip = live ? 3 : 2;
  if (args.size() <= first_clip || (args[0] != "live" && args[0] != "original")) {
    std::fprintf(stderr,
                 "usage: live_load live PORT N CLIP... | live_load original PORT CLIP...\n");
    return 2;
  }
  try {
    std::vector<Clip> clips;
    for (std::size_t i = first_clip; i < args.size(); ++i)
      clips.push_back({args[i], read_pcm(args[i]), scribepod::asr::samples::reference_of(args[i])});
    const auto port = static_cast<uint16_t>(std::stoi(args[1]));
    return live ? run_live(port, std::stoul(args[2]), clips) : run_original(port, clips);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "live_load: %s\n", e.what());
    return 1;
  }
}
