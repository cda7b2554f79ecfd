// SIGTERM during live streams: three WebSocket clients stream real speech
// (goforward.raw) and are cut mid-utterance by a SIGTERM. Each must get its
// open utterance's final (reason "shutdown"), the shutting_down error event
// and close code 1001 (docs/streaming.md); the server exits 0; and after a
// restart on the same data directory the finals are in the history.
// A second case repeats it with a slow remote LLM and a short grace, where
// the process must still exit 0 (it did not, under ASan, before a fix in
// src/api/app.h). (tests/integration covers one stream without the history.)
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <csignal>
#include <latch>
#include <thread>

#include "fault_peer.h"
#include "fault_support.h"

namespace scribepod::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr std::size_t kFrameBytes = 3200;  // 100 ms of 16 kHz PCM16

// A blocking /v1/stream client; reads give up after 15 s.
class LiveClient {
 public:
  explicit LiveClient(std::uint16_t port) : ws_(ioc_) {
    ws_.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    timeval tv{15, 0};
    setsockopt(ws_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ws_.handshake("127.0.0.1", "/v1/stream");
  }
  void start() {
    ws_.text(true);
    ws_.write(
        net::buffer(std::string(R"({"type":"start","sample_rate":16000,"encoding":"pcm16"})")));
  }
  // Sends `pcm` in 100 ms frames at `speed` x real time.
  void stream(const std::string& pcm, double speed) {
    ws_.binary(true);
    const auto period = std::chrono::microseconds(static_cast<long>(100'000 / speed));
    auto next = std::chrono::steady_clock::now();
    for (std::size_t off = 0; off < pcm.size(); off += kFrameBytes) {
      std::this_thread::sleep_until(next);
      const std::string_view frame = std::string_view(pcm).substr(off, kFrameBytes);
      beast::error_code ec;
      ws_.write(net::buffer(frame.data(), frame.size()), ec);
      if (ec) return;
      next += period;
    }
  }
  std::optional<json> next() {
    beast::flat_buffer buf;
    beast::error_code ec;
    ws_.read(buf, ec);
    if (ec) {
      close_code_ = ec == websocket::error::closed ? static_cast<int>(ws_.reason().code) : -1;
      return std::nullopt;
    }
    return json::parse(beast::buffers_to_string(buf.data()));
  }
  int close_code() const { return close_code_; }

 private:
  net::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  int close_code_ = 0;
};

// In sanitizer builds the server's exit status includes LeakSanitizer's
// verdict; lsan.supp says why the system PocketSphinx needs a suppression.
Env server_env() {
#if defined(__SANITIZE_ADDRESS__)
  return {{"LSAN_OPTIONS", "suppressions=" + source_dir() + "/tests/fault/lsan.supp"}};
#else
  return {};
#endif
}

std::string dump(const std::vector<json>& events) {
  std::string s;
  for (const auto& e : events) s += e.dump() + "\n";
  return s;
}

// Three clients stream, SIGTERM, then the checks above. `extra` is added to
// the server's arguments. With `within_grace` false the shutdown grace is
// expected to end first, so only what holds after a forced close is checked:
// exit 0, every connection ended, and every final a client got is stored.
void sigterm_during_three_streams(const std::vector<std::string>& extra, const char* what,
                                  bool within_grace = true) {
  const std::string go = read_speech("goforward.raw");
  ASSERT_FALSE(go.empty()) << "goforward.raw is part of pocketsphinx-testdata";
  TempDir data;
  std::vector<std::string> args = {"--set", "data_dir=" + data.path().string(), "--set",
                                   "live.idle_timeout=20s"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto server = ServerProcess::serve(args, server_env());

  constexpr int kClients = 3;
  std::vector<std::vector<json>> events(kClients);
  std::vector<int> codes(kClients, 0);
  std::latch streamed(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto& ev = events[static_cast<std::size_t>(i)];
      try {
        LiveClient c(server->port());
        c.start();
        if (auto e = c.next()) ev.push_back(*e);  // session
        // The words end at ~2.1 s; cut 0.2 s later, so the utterance is open.
        c.stream(go.substr(0, 2 * 16000 * 23 / 10), 1.5);
        streamed.count_down();
        while (auto e = c.next()) ev.push_back(std::move(*e));
        codes[static_cast<std::size_t>(i)] = c.close_code();
      } catch (const std::exception& e) {
        ADD_FAILURE() << "client " << i << ": " << e.what();
        streamed.count_down();
      }
    });
  }
  streamed.wait();
  const auto sigterm_at = Clock::now();
  server->send_signal(SIGTERM);
  for (auto& t : clients) t.join();
  const double closed_ms = ms_since(sigterm_at);
  EXPECT_EQ(server->wait_exit(30s), 0) << server->describe();
  const double exit_ms = ms_since(sigterm_at);

  std::vector<std::pair<std::string, std::string>> stored;  // session id, final text
  for (int i = 0; i < kClients; ++i) {
    const auto& ev = events[static_cast<std::size_t>(i)];
    ASSERT_FALSE(ev.empty()) << "client " << i;
    ASSERT_EQ(ev.front().value("type", ""), "session") << dump(ev);
    std::vector<json> finals;
    for (const auto& e : ev) {
      if (e.value("type", "") == "final") finals.push_back(e);
    }
    EXPECT_LE(finals.size(), 1u) << "client " << i << "\n" << dump(ev);
    for (const auto& f : finals) {
      stored.emplace_back(ev.front().value("session_id", ""), f.value("text", ""));
    }
    if (!within_grace) continue;
    EXPECT_EQ(codes[static_cast<std::size_t>(i)], 1001) << "client " << i << "\n" << dump(ev);
    ASSERT_EQ(finals.size(), 1u) << "client " << i << "\n" << dump(ev);
    EXPECT_EQ(finals[0].value("reason", ""), "shutdown") << dump(ev);
    EXPECT_NE(finals[0].value("text", "").find("forward"), std::string::npos) << dump(ev);
    EXPECT_EQ(ev.back().value("code", ""), "shutting_down") << dump(ev);
  }
  std::printf(
      "[fault] SIGTERM with %d live streams%s: %zu finals, all closed %.0f ms after the "
      "signal, exit after %.0f ms\n",
      kClients, what, stored.size(), closed_ms, exit_ms);

  auto again = ServerProcess::serve(args, server_env());
  for (const auto& [id, text] : stored) {
    const HttpResponse res = http_get(again->port(), "/v1/sessions/" + id);
    ASSERT_EQ(res.status, 200u) << id << ": " << res.body;
    const auto utterances = res.json().value("utterances", json::array());
    ASSERT_EQ(utterances.size(), 1u) << res.body;
    EXPECT_EQ(utterances[0].value("text", ""), text) << res.body;
  }
}

TEST(ShutdownFaultTest, SigtermDuringThreeLiveStreamsFinalisesStoresAndTellsEachClient) {
  sigterm_during_three_streams({}, "");
}

// The same while a slow remote LLM (a FaultPeer test double answering after
// 3 s) is still thinking about the flushed finals when the 1 s shutdown grace
// ends: the mind pool finishes after the compute pool, so the work it hands
// back to the streams' compute strands is left queued at exit. (One decoder
// per stream.) Under ASan this was a heap-use-after-free in ~App, fixed in
// src/api/app.h. A 1 s grace is shorter than flushing three open utterances
// takes (~3 s), so the streams are force-closed (no 1001, often no final)
// and only the forced-close guarantees are checked.
TEST(ShutdownFaultTest, SigtermWhileASlowLlmIsThinkingExitsCleanly) {
  FaultPeer llm;
  llm.slow(3000ms);
  sigterm_during_three_streams(
      {"--set", "server.shutdown_grace=1s", "--set", "asr.concurrency=3", "--set",
       "mind.engine=openai", "--set", "llm.remote_url=" + llm.url(), "--set",
       "mind.prompts_dir=" + source_dir() + "/prompts"},
      " (slow LLM)", /*within_grace=*/false);
}

}  // namespace
}  // namespace scribepod::testing
