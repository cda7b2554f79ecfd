// Slow-loris clients: many connections that each send one header byte per
// second are cut off within server.read_timeout (408 or a close), while
// other clients on the same single I/O thread are answered promptly; an
// oversized header meanwhile gets 431. A live stream that trickles a
// WebSocket frame byte by byte never completes a message, so it is closed at
// live.idle_timeout (4408) like a silent one. (tests/integration covers one
// trickling HTTP client at 5 bytes per second.)
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fault_support.h"

namespace scribepod::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kLorises = 16;
constexpr double kReadTimeoutMs = 2000;

struct LorisOutcome {
  double cut_ms = -1;  // first byte -> 408 or close
  unsigned status = 0;
  std::size_t bytes_sent = 0;
};

LorisOutcome slow_loris(std::uint16_t port) {
  const std::string request =
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(64, 'a') + "\r\n\r\n";
  LorisOutcome out;
  HttpConnection conn(port);
  const auto start = Clock::now();
  while (ms_since(start) < 3 * kReadTimeoutMs) {
    if (out.bytes_sent < request.size() && !conn.send(request.substr(out.bytes_sent, 1))) break;
    ++out.bytes_sent;
    const ReadResult r = conn.try_read(1s);  // one byte per second
    if (r.outcome == ReadOutcome::kResponse) {
      out.status = r.response.status;
      conn.wait_closed(1s);
      break;
    }
    if (r.outcome != ReadOutcome::kTimeout) break;
  }
  out.cut_ms = ms_since(start);
  return out;
}

TEST(SlowLorisFaultTest, TricklingClientsAreCutAtTheReadTimeoutAndDoNotBlockOthers) {
  auto server =
      ServerProcess::serve({"--set", "server.read_timeout=2s", "--set", "server.threads=1", "--set",
                            "server.max_header_bytes=4KiB", "--set", "rate_limit.enabled=false"});
  std::vector<LorisOutcome> outcomes(kLorises);
  std::vector<std::thread> lorises;
  for (int i = 0; i < kLorises; ++i) {
    lorises.emplace_back(
        [&, i] { outcomes[static_cast<std::size_t>(i)] = slow_loris(server->port()); });
  }
  // Meanwhile, ordinary clients: prompt answers, and 431 for a huge header.
  std::this_thread::sleep_for(300ms);
  double worst_ms = 0;
  int answered = 0;
  const auto until = Clock::now() + 2500ms;
  while (Clock::now() < until) {
    const auto t = Clock::now();
    const HttpResponse res = http_get(server->port(), "/health");
    worst_ms = std::max(worst_ms, ms_since(t));
    EXPECT_EQ(res.status, 200u);
    ++answered;
    std::this_thread::sleep_for(100ms);
  }
  {
    HttpConnection conn(server->port());
    const auto t = Clock::now();
    const HttpResponse big =
        conn.roundtrip(make_request("GET", "/health", {{"X-Big", std::string(8000, 'a')}}));
    EXPECT_TRUE(IsJsonError(big, 431, "headers_too_large")) << big.head_text() << big.body;
    EXPECT_FALSE(big.keep_alive);
    EXPECT_TRUE(conn.wait_closed(1s)) << "connection left open after 431";
    EXPECT_LT(ms_since(t), 500);
  }
  for (auto& t : lorises) t.join();

  double slowest_cut = 0;
  for (const auto& o : outcomes) {
    slowest_cut = std::max(slowest_cut, o.cut_ms);
    EXPECT_GE(o.cut_ms, 0.8 * kReadTimeoutMs) << "cut before the read timeout";
    EXPECT_LE(o.cut_ms, kReadTimeoutMs + 1500) << "a trickle of bytes extended the deadline";
    EXPECT_TRUE(o.status == 408 || o.status == 0) << o.status;
    EXPECT_LT(o.bytes_sent, 10u);
  }
  EXPECT_LT(worst_ms, 250) << "slow clients delayed an ordinary request";
  EXPECT_GE(answered, 10);
  EXPECT_TRUE(server->running()) << server->describe();
  std::printf(
      "[fault] slow-loris: %d clients at 1 byte/s cut after at most %.0f ms (read_timeout "
      "%.0f ms); %d /health requests meanwhile, slowest %.1f ms; 8000-byte header -> 431\n",
      kLorises, slowest_cut, kReadTimeoutMs, answered, worst_ms);
}

// One masked client frame (RFC 6455 section 5.2) with a payload under 64 KiB.
std::string ws_frame(unsigned opcode, const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(0x80U | opcode));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(0x80U | payload.size()));
  } else {
    f.push_back(static_cast<char>(0x80U | 126U));
    f.push_back(static_cast<char>((payload.size() >> 8) & 0xFFU));
    f.push_back(static_cast<char>(payload.size() & 0xFFU));
  }
  const std::string mask = "\x1f\x2e\x3d\x4c";
  f += mask;
  for (std::size_t i = 0; i < payload.size(); ++i) f.push_back(payload[i] ^ mask[i % 4]);
  return f;
}

TEST(SlowLorisFaultTest, TricklingWebSocketFrameIsClosedAtTheLiveIdleTimeout) {
  constexpr double kIdleMs = 2000;
  auto server = ServerProcess::serve({"--set", "live.idle_timeout=2s"});
  HttpConnection conn(server->port());
  ASSERT_TRUE(conn.send(make_request("GET", "/v1/stream",
                                     {{"Upgrade", "websocket"},
                                      {"Connection", "Upgrade"},
                                      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                      {"Sec-WebSocket-Version", "13"}})));
  const ReadResult upgraded = conn.try_read(2s, false, /*return_interim=*/true);
  ASSERT_EQ(upgraded.outcome, ReadOutcome::kResponse) << upgraded.error << upgraded.raw;
  ASSERT_EQ(upgraded.response.status, 101u) << upgraded.raw;
  ASSERT_TRUE(conn.send(ws_frame(1, R"({"type":"start","sample_rate":16000,"encoding":"pcm16"})")));

  // 100 ms of audio in one binary frame, sent one byte every 100 ms.
  const std::string frame = ws_frame(2, std::string(3200, '\0'));
  const std::string close_4408 = "\x88\x0e\x11\x38";  // close frame, code 4408
  const auto start = Clock::now();
  std::string received;
  double closed_ms = -1;
  for (std::size_t i = 0; i < frame.size() && ms_since(start) < 3 * kIdleMs; ++i) {
    if (!conn.send(frame.substr(i, 1))) break;
    conn.wait_closed(100ms, &received);
    if (received.find(close_4408) != std::string::npos) {
      closed_ms = ms_since(start);
      break;
    }
  }
  ASSERT_GE(closed_ms, 0) << "a stream trickling one frame was not closed within " << 3 * kIdleMs
                          << " ms; received: " << received;
  EXPECT_NE(received.find("no message within the idle timeout"), std::string::npos) << received;
  EXPECT_GE(closed_ms, 0.8 * kIdleMs);
  EXPECT_LE(closed_ms, kIdleMs + 1000) << "trickled bytes extended the idle timeout";
  EXPECT_TRUE(server->running()) << server->describe();
  std::printf(
      "[fault] WebSocket frame trickled at 10 bytes/s: closed 4408 after %.0f ms "
      "(live.idle_timeout %.0f ms)\n",
      closed_ms, kIdleMs);
}

}  // namespace
}  // namespace scribepod::testing
