// The history store failing under the real `scribepod` binary:
// - SQLite on a full disk (a 2 MiB tmpfs filled to the last page): writes
//   get a clear JSON error (500 io_error, "disk full"), the process lives on
//   (/health ok, /ready names the store), writes work again once there is
//   room, and every utterance acknowledged with a 200 is in
//   GET /v1/sessions/{id} after a restart on the same data directory.
// - PostgreSQL (a real server, tests/store/postgres_server.h) stopped and
//   started again while a client keeps writing: writes during the outage get
//   a clean 503, the server reconnects by itself, and every acknowledged
//   write is there after a restart of scribepod.
// Each write is POST /conversation?chunk=1 of real speech without a session
// header, so each 200 names a new session holding exactly one utterance.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "fault_peer.h"
#include "fault_support.h"
#include "postgres_server.h"

namespace scribepod::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A tmpfs mounted for the test's lifetime (lazily unmounted at the end).
class TmpfsMount {
 public:
  TmpfsMount(const fs::path& at, const std::string& size) : at_(at) {
    fs::create_directories(at);
    const std::string options = "size=" + size + ",mode=0755";
    mounted_ = ::mount("tmpfs", at.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) why_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }

 private:
  fs::path at_;
  bool mounted_ = false;
  std::string why_;
};

// Writes `path` until the file system refuses another byte (ENOSPC), in
// shrinking chunks so that not even one page is left. Returns bytes written.
std::size_t fill_disk(const fs::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::setvbuf(f, nullptr, _IONBF, 0);
  std::size_t total = 0;
  const std::string block(64 * 1024, 'x');
  for (std::size_t chunk = block.size(); chunk >= 1; chunk /= 2) {
    while (std::fwrite(block.data(), 1, chunk, f) == chunk) total += chunk;
    std::clearerr(f);
  }
  std::fclose(f);
  return total;
}

std::size_t utterances_in(std::uint16_t port, const std::string& session, std::string* why) {
  const HttpResponse res = http_get(port, "/v1/sessions/" + session);
  if (res.status != 200) {
    *why = std::to_string(res.status) + " " + res.body;
    return 0;
  }
  const auto utterances = res.json().value("utterances", nlohmann::json::array());
  for (const auto& u : utterances) {
    if (u.value("text", "").empty()) *why = "an utterance without text: " + res.body;
  }
  return utterances.size();
}

// Recognition by a healthy remote test double: a write then costs a WAV
// decode and the VAD gate, not a local decode that a busy machine slows to
// seconds, so the store sees many writes.
std::vector<std::string> cheap_asr_args(const FaultPeer& asr) {
  return {"--set", "asr.engine=remote",       "--set", "asr.remote_url=" + asr.url(),
          "--set", "rate_limit.enabled=false"};
}

TEST(StoreFaultTest, SqliteOnAFullDiskRefusesCleanlyAndLosesNothingAcknowledged) {
  TempDir dir;
  TmpfsMount disk(dir.path() / "disk", "2m");
  if (!disk.mounted()) {
    GTEST_SKIP() << "mounting a tmpfs is not permitted here (" << disk.why()
                 << "); this test needs root or CAP_SYS_ADMIN";
  }
  const std::string data_dir = (dir.path() / "disk" / "data").string();
  const std::string wav = wav_from_pcm16(read_speech("tidigits/dhd.2934z.raw"));
  ASSERT_GT(wav.size(), 44u) << "tidigits/dhd.2934z.raw is part of pocketsphinx-testdata";
  const FaultPeer asr;
  std::vector<std::string> args = cheap_asr_args(asr);
  args.insert(args.end(), {"--set", "data_dir=" + data_dir});
  auto server = ServerProcess::serve(args);

  std::vector<std::string> acked;
  for (int i = 0; i < 3; ++i) {
    const TimedResponse r = post_new_utterance(server->port(), wav);
    ASSERT_EQ(r.response.status, 200u) << r.error << r.response.body;
    acked.push_back(r.response.json().value("sessionId", ""));
  }

  const std::size_t filled = fill_disk(dir.path() / "disk" / "filler");
  ASSERT_GT(filled, 0u);
  // Keep writing: SQLite may still have room in pages it holds; once it
  // needs a new one, the write is refused.
  int refused = 0;
  int refused_in_a_row = 0;
  double refusal_ms = 0;
  for (int i = 0; i < 60 && refused_in_a_row < 3; ++i) {
    const TimedResponse r = post_new_utterance(server->port(), wav);
    ASSERT_FALSE(r.transport_error) << "write " << i << ": " << r.error << "\n"
                                    << server->describe();
    if (r.response.status == 200) {
      acked.push_back(r.response.json().value("sessionId", ""));
      refused_in_a_row = 0;
      continue;
    }
    ++refused;
    ++refused_in_a_row;
    refusal_ms = std::max(refusal_ms, r.ms);
    EXPECT_TRUE(IsJsonError(r.response, 500, "io_error")) << r.response.body;
    EXPECT_NE(r.response.json().value("message", "").find("disk full"), std::string::npos)
        << r.response.body;
  }
  ASSERT_GE(refused, 1) << "a full disk never refused a write";
  EXPECT_TRUE(server->running()) << server->describe();
  EXPECT_EQ(http_get(server->port(), "/health").status, 200u);
  std::printf(
      "[fault] sqlite full disk: filler %zu bytes, %zu writes acknowledged, %d refused "
      "(slowest refusal %.0f ms)\n",
      filled, acked.size(), refused, refusal_ms);

  // /ready names the store and why (its probe is cached for 1 s).
  HttpResponse ready = http_get(server->port(), "/ready");
  for (int i = 0; i < 30 && ready.status == 200; ++i) {
    std::this_thread::sleep_for(100ms);
    ready = http_get(server->port(), "/ready");
  }
  EXPECT_EQ(ready.status, 503u) << ready.body;
  EXPECT_NE(ready.body.find("\"notReady\":[\"store\"]"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("disk full"), std::string::npos) << ready.body;

  // Room again: the same process writes again and turns ready.
  fs::remove(dir.path() / "disk" / "filler");
  const TimedResponse after = post_new_utterance(server->port(), wav);
  EXPECT_EQ(after.response.status, 200u) << after.error << after.response.body;
  if (after.response.status == 200) acked.push_back(after.response.json().value("sessionId", ""));
  for (int i = 0; i < 30 && ready.status != 200; ++i) {
    std::this_thread::sleep_for(100ms);
    ready = http_get(server->port(), "/ready");
  }
  EXPECT_EQ(ready.status, 200u) << "the store stayed not ready after space was freed: "
                                << ready.body;

  // Restart on the same data directory.
  server->send_signal(SIGTERM);
  EXPECT_EQ(server->wait_exit(15s), 0) << server->describe();
  auto again = ServerProcess::serve(args);
  for (const std::string& id : acked) {
    std::string why;
    EXPECT_EQ(utterances_in(again->port(), id, &why), 1u) << "session " << id << " " << why;
    EXPECT_EQ(why, "");
  }
}

struct Write {
  TimedResponse result;
  std::string session;
  Clock::time_point at;
};

TEST(StoreFaultTest, PostgresRestartedUnderLoadReconnectsAndLosesNothingAcknowledged) {
  std::string why;
  if (!PostgresServer::available(why)) GTEST_SKIP() << why;
  PostgresServer pg;
  ASSERT_TRUE(pg.start().ok()) << pg.log_tail();
  const FaultPeer asr;  // healthy all along: the store is what fails here
  std::vector<std::string> args = cheap_asr_args(asr);
  args.insert(args.end(),
              {"--set", "store.backend=postgres", "--set", "store.postgres_url=" + pg.url()});
  auto server = ServerProcess::serve(args);
  const std::string wav = wav_from_pcm16(read_speech("tidigits/dhd.2934z.raw"));

  // Two clients writing in a loop, so that the outage meets several writes.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<Write> writes;
  std::vector<std::thread> writers;
  for (int i = 0; i < 2; ++i) {
    writers.emplace_back([&] {
      while (!stop) {
        Write w;
        w.result = post_new_utterance(server->port(), wav);
        w.at = Clock::now();
        if (w.result.response.status == 200) {
          w.session = w.result.response.json().value("sessionId", "");
        }
        std::lock_guard lock(mu);
        writes.push_back(std::move(w));
      }
    });
  }
  // Waits (at most 10 s) until `n` writes that finished after `since` got a 200.
  auto wait_for_acks = [&](std::size_t n, Clock::time_point since) {
    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline) {
      {
        std::lock_guard lock(mu);
        std::size_t ok = 0;
        for (const Write& w : writes) ok += (w.at > since && !w.session.empty()) ? 1U : 0U;
        if (ok >= n) return;
      }
      std::this_thread::sleep_for(20ms);
    }
  };
  wait_for_acks(3, Clock::now());
  const auto down_at = Clock::now();
  const Status stopped = pg.stop();
  // The store's probe is cached for 1 s; past that, /ready names it.
  std::this_thread::sleep_for(1200ms);
  const HttpResponse ready_during = http_get(server->port(), "/ready");
  std::this_thread::sleep_for(1300ms);
  const Status started = pg.start();
  const auto up_at = Clock::now();
  wait_for_acks(4, up_at);
  stop = true;
  for (auto& t : writers) t.join();
  ASSERT_TRUE(stopped.ok()) << pg.log_tail();
  ASSERT_TRUE(started.ok()) << pg.log_tail();
  EXPECT_EQ(ready_during.status, 503u) << ready_during.body;
  EXPECT_NE(ready_during.body.find("\"notReady\":[\"store\"]"), std::string::npos)
      << ready_during.body;

  std::size_t before = 0, outage = 0, after = 0, refused = 0;
  double first_ok_after_up_ms = -1;
  double slowest_refusal_ms = 0;
  for (const Write& w : writes) {
    ASSERT_FALSE(w.result.transport_error) << w.result.error << "\n" << server->describe();
    const unsigned status = w.result.response.status;
    if (status == 200) {
      if (w.at < down_at) {
        ++before;
      } else if (w.at > up_at) {
        ++after;
        if (first_ok_after_up_ms < 0) {
          first_ok_after_up_ms = std::chrono::duration<double, std::milli>(w.at - up_at).count();
        }
      } else {
        ++outage;  // begun before the stop or finished after the start
      }
      continue;
    }
    ++refused;
    slowest_refusal_ms = std::max(slowest_refusal_ms, w.result.ms);
    EXPECT_TRUE(IsJsonError(w.result.response, 503, "unavailable")) << w.result.response.body;
    EXPECT_NE(w.result.response.header("Retry-After"), "");
  }
  std::printf(
      "[fault] postgres restart: %zu writes: %zu ok before, %zu ok around, %zu ok after, "
      "%zu refused with 503 (slowest %.0f ms); first ok write %.0f ms after the restart\n",
      writes.size(), before, outage, after, refused, slowest_refusal_ms, first_ok_after_up_ms);
  EXPECT_GE(before, 1u);
  EXPECT_GE(refused, 1u) << "no write met the outage";
  // Refused at once (connection refused), not after waiting out a timeout.
  EXPECT_LT(slowest_refusal_ms, 2000);
  EXPECT_GE(after, 1u) << "no write succeeded after PostgreSQL came back: no reconnect";
  ASSERT_FALSE(writes.empty());
  EXPECT_EQ(writes.back().result.response.status, 200u) << "still failing at the end";
  EXPECT_EQ(http_get(server->port(), "/ready").status, 200u);

  // A fresh scribepod on the same database finds every acknowledged write.
  server->send_signal(SIGTERM);
  EXPECT_EQ(server->wait_exit(15s), 0) << server->describe();
  auto again = ServerProcess::serve(args);
  for (const Write& w : writes) {
    if (w.session.empty()) continue;
    std::string problem;
    EXPECT_EQ(utterances_in(again->port(), w.session, &problem), 1u)
        << "session " << w.session << " " << problem;
  }
}

}  // namespace
}  // namespace scribepod::testing
