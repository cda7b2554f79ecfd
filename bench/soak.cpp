// soak: the load client of bench/soak.sh. A bounded mixed load on a running
// `scribepod serve` for SECONDS:
//
//   soak PORT SECONDS STREAMS REST_WORKERS REST_RPS CLIP...
//
// - REST_WORKERS threads, each on one keep-alive connection and one session,
//   cycling POST /generate_thots, POST /transcribe (the first clip as WAV)
//   and POST /conversation?chunk=1 (the next clip), paced to REST_RPS
//   requests per second per worker;
// - STREAMS WebSocket speakers on GET /v1/stream, each playing the clips
//   (16 kHz mono s16le .raw or WAV) at real-time pace in 100 ms frames with
//   1.5 s silences, then `stop`, over and over until the time is up.
//
// A stream's lost finals: utterance ids the server opened (any event names
// them, and ids are 1, 2, ... per stream) without a `final` by the close,
// plus, on streams that closed normally, clips during which no final
// covered any audio. A stream the server cuts for overload (1013) counts as
// a deliberate overload, like a 503, and is listed by close code; the
// utterance it had open is counted apart (kept for a resume, not sent). 5xx other than 503
// (deliberate overload, with Retry-After) are counted apart.
//
// Output, machine-readable for soak.sh: one line per kind
//   KIND|name|requests|ok|busy503|other5xx|other|p50|p95|p99   (latency ms)
// and LIVE|streams|sessions|utterances|lost_finals|clips_without_final|bad_closes
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "live_bench_util.h"

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

constexpr int kGapMs = 1500;

struct KindStats {
  std::vector<double> ms;
  long ok = 0, busy = 0, other5xx = 0, other = 0;
};

class Stats {
 public:
  void add(const std::string& kind, double ms, unsigned status) {
    const std::lock_guard lock(mu_);
    KindStats& k = kinds_[kind];
    k.ms.push_back(ms);
    if (status >= 200 && status < 300) {
      ++k.ok;
    } else if (status == 503) {
      ++k.busy;
    } else if (status >= 500) {
      ++k.other5xx;
    } else {
      ++k.other;
    }
  }
  void print() const {
    for (const auto& [name, k] : kinds_) {
      std::printf("KIND|%s|%zu|%ld|%ld|%ld|%ld|%.0f|%.0f|%.0f\n", name.c_str(), k.ms.size(), k.ok,
                  k.busy, k.other5xx, k.other, pct(k.ms, 50), pct(k.ms, 95), pct(k.ms, 99));
    }
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, KindStats> kinds_;
};

// One REST worker: a keep-alive connection, one session, paced requests.
void rest_worker(uint16_t port, Clock::time_point end, double rps,
                 const std::vector<std::string>& wavs, Stats& stats, int index) {
  net::io_context ioc;
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  std::unique_ptr<beast::tcp_stream> stream;
  std::string session;
  const std::string boundary = "soak5e1f";
  const auto period = std::chrono::duration<double>(1.0 / rps);
  auto next = Clock::now() + std::chrono::milliseconds(37 * index);
  for (std::size_t i = static_cast<std::size_t>(index); Clock::now() < end; ++i) {
    std::this_thread::sleep_until(next);
    next += std::chrono::duration_cast<Clock::duration>(period);
    std::string kind;
    http::request<http::string_body> req;
    req.version(11);
    req.method(http::verb::post);
    req.set(http::field::host, "127.0.0.1");
    const std::string& wav = wavs[i % wavs.size()];
    auto form = [&](const std::string& data) {
      req.set(http::field::content_type, "multipart/form-data; boundary=" + boundary);
      req.body() = "--" + boundary +
                   "\r\nContent-Disposition: form-data; name=\"audio_data\"; "
                   "filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n" +
                   data + "\r\n--" + boundary + "--\r\n";
    };
    switch (i % 3) {
      case 0:
        kind = "generate_thots";
        req.target("/generate_thots");
        req.set(http::field::content_type, "application/json");
        req.body() = json{{"conversation_speech",
                           {"person: hello there",
                            "person: can you help me plan a trip to " + std::to_string(i)}}}
                         .dump();
        break;
      case 1:
        kind = "transcribe";
        req.target("/transcribe");
        form(wavs.front());
        break;
      default:
        kind = "conversation";
        req.target("/conversation?chunk=1");
        req.set(http::field::accept, "application/json");
        if (!session.empty()) req.set("X-Session-Id", session);
        form(wav);
        break;
    }
    req.prepare_payload();
    const auto began = Clock::now();
    unsigned status = 0;
    try {
      if (!stream) {
        stream = std::make_unique<beast::tcp_stream>(ioc);
        stream->connect(ep);
      }
      stream->expires_after(std::chrono::seconds(60));
      http::write(*stream, req);
      beast::flat_buffer b;
      http::response<http::string_body> res;
      http::read(*stream, b, res);
      status = res.result_int();
      if (kind == "conversation" && status == 200) {
        session = json::parse(res.body()).value("sessionId", session);
      }
      if (!res.keep_alive()) stream.reset();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "soak: %s: %s\n", kind.c_str(), e.what());
      stream.reset();
    }
    stats.add(kind, ms_between(began, Clock::now()), status);
  }
}

struct LiveTotals {
  std::mutex mu;
  long sessions = 0, utterances = 0, lost = 0, clips_without_final = 0, bad_closes = 0;
  long open_at_cut = 0;              // utterances open when the server cut for overload (1013)
  std::map<int, long> close_codes;   // abnormal ones, -1 = no close frame
  std::vector<double> eos_to_final;  // end of speech (frame send time) to final
};

// One stream session: plays `clips` once, then stop; tallies into `t`.
void live_session(uint16_t port, const std::vector<std::string>& clips, LiveTotals& t) {
  net::io_context ioc;
  websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  ws.handshake("127.0.0.1", "/v1/stream");
  ws.text(true);
  ws.write(net::buffer(std::string(R"({"type":"start","sample_rate":16000,"encoding":"pcm16"})")));
  std::string audio = std::string(32000, '\0');
  std::vector<std::pair<int64_t, int64_t>> spans;  // clip audio ms
  for (const auto& c : clips) {
    const auto from = static_cast<int64_t>(audio.size() / 32);
    audio += c;
    spans.emplace_back(from, static_cast<int64_t>(audio.size() / 32));
    audio += std::string(static_cast<std::size_t>(kGapMs) * 32, '\0');
  }
  audio.resize((audio.size() + kFrameBytes - 1) / kFrameBytes * kFrameBytes, '\0');

  std::vector<Clock::time_point> sent;
  std::set<int64_t> opened, finals;
  std::vector<std::pair<int64_t, int64_t>> final_spans;
  std::vector<double> e2f;
  int close_code = 0;
  beast::flat_buffer buf;
  net::steady_timer timer(ioc);
  const auto t0 = Clock::now() + std::chrono::milliseconds(100);
  std::function<void()> schedule = [&] {
    const std::size_t k = sent.size();
    if (k * kFrameBytes >= audio.size()) {
      ws.text(true);
      ws.async_write(net::buffer(std::string_view(R"({"type":"stop"})")),
                     [](beast::error_code, std::size_t) {});
      return;
    }
    timer.expires_at(t0 + std::chrono::milliseconds(static_cast<int64_t>(k) * kFrameMs));
    timer.async_wait([&, k](beast::error_code ec) {
      if (ec) return;
      sent.push_back(Clock::now());
      ws.binary(true);
      ws.async_write(net::buffer(audio.data() + k * kFrameBytes, kFrameBytes),
                     [&](beast::error_code wec, std::size_t) {
                       if (!wec) schedule();
                     });
    });
  };
  std::function<void()> read = [&] {
    ws.async_read(buf, [&](beast::error_code ec, std::size_t) {
      if (ec) {
        close_code = ec == websocket::error::closed ? static_cast<int>(ws.reason().code) : -1;
        timer.cancel();
        return;
      }
      const auto e = json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
      buf.consume(buf.size());
      if (e.is_object() && e.contains("utterance_id") && e["utterance_id"].is_number_integer()) {
        const auto id = e["utterance_id"].get<int64_t>();
        opened.insert(id);
        if (e.value("type", "") == "final" && e.value("reason", "") != "replay") {
          finals.insert(id);
          const int64_t s = e.value("start_ms", int64_t{0}), f = e.value("end_ms", int64_t{0});
          final_spans.emplace_back(s, f);
          const auto frame =
              std::min(static_cast<std::size_t>(std::max<int64_t>(f - 1, 0) / kFrameMs),
                       sent.empty() ? 0 : sent.size() - 1);
          if (!sent.empty()) e2f.push_back(ms_between(sent[frame], Clock::now()));
        }
      }
      read();
    });
  };
  read();
  schedule();
  ioc.run();

  const std::lock_guard lock(t.mu);
  ++t.sessions;
  t.utterances += static_cast<long>(finals.size());
  const int64_t max_id = opened.empty() ? 0 : *opened.rbegin();
  // A stream cut for overload keeps its open utterance for a resume (the
  // server finalises and stores it on disconnect) but does not send it on
  // the closing connection: counted apart, like the cut itself.
  const long missing = static_cast<long>(max_id) - static_cast<long>(finals.size());
  (close_code == 1013 ? t.open_at_cut : t.lost) += missing;
  // A stream cut for overload (1013, deliberate like a 503) ends early: its
  // remaining clips were never heard, so only clean closes are checked.
  for (const auto& [from, to] : close_code == 1000 ? spans : decltype(spans){}) {
    const bool covered = std::any_of(final_spans.begin(), final_spans.end(), [&](const auto& f) {
      return f.first < to && f.second > from;
    });
    if (!covered) ++t.clips_without_final;
  }
  if (close_code != 1000) {
    ++t.bad_closes;
    ++t.close_codes[close_code];
  }
  t.eos_to_final.insert(t.eos_to_final.end(), e2f.begin(), e2f.end());
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 6) {
    std::fprintf(stderr, "usage: soak PORT SECONDS STREAMS REST_WORKERS REST_RPS CLIP...\n");
    return 2;
  }
  try {
    const auto port = static_cast<uint16_t>(std::stoi(args[0]));
    const auto end = Clock::now() + std::chrono::seconds(std::stol(args[1]));
    const auto streams = std::stoul(args[2]);
    const auto workers = std::stoul(args[3]);
    const double rps = std::stod(args[4]);
    std::vector<std::string> clips, wavs;
    for (std::size_t i = 5; i < args.size(); ++i) {
      clips.push_back(read_pcm(args[i]));
      wavs.push_back(wav_of(clips.back()));
    }
    Stats stats;
    LiveTotals live;
    std::vector<std::thread> threads;
    for (std::size_t w = 0; w < workers; ++w)
      threads.emplace_back(rest_worker, port, end, rps, std::cref(wavs), std::ref(stats),
                           static_cast<int>(w));
    for (std::size_t s = 0; s < streams; ++s) {
      threads.emplace_back([&, s] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300 * static_cast<int64_t>(s)));
        std::vector<std::string> mine = clips;
        std::rotate(mine.begin(), mine.begin() + static_cast<std::ptrdiff_t>(s % mine.size()),
                    mine.end());
        while (Clock::now() < end) {
          try {
            live_session(port, mine, live);
          } catch (const std::exception& e) {
            std::fprintf(stderr, "soak: stream: %s\n", e.what());
            const std::lock_guard lock(live.mu);
            ++live.bad_closes;
            std::this_thread::sleep_for(std::chrono::seconds(1));
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    stats.print();
    std::string codes;
    for (const auto& [code, n] : live.close_codes)
      codes += std::to_string(code) + ":" + std::to_string(n) + " ";
    std::printf("LIVE|%zu|%ld|%ld|%ld|%ld|%ld %s|%.0f|%.0f|%.0f|%ld\n", streams, live.sessions,
                live.utterances, live.lost, live.clips_without_final, live.bad_closes,
                codes.c_str(), pct(live.eos_to_final, 50), pct(live.eos_to_final, 95),
                pct(live.eos_to_final, 99), live.open_at_cut);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak: %s\n", e.what());
    return 1;
  }
}
