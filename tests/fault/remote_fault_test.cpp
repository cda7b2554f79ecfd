// Remote backends that fail: the real `scribepod` binary with a remote LLM
// (mind.engine = openai) or a remote recogniser (asr.engine = remote) whose
// server is a FaultPeer test double on loopback that is down (connection
// refused), slow (past the configured timeout), answers 500, or answers 429
// with Retry-After. For each: retries are bounded (counted at the peer and
// in scribepod_remote_retries_total), the circuit opens after 5 failed
// attempts (scribepod_circuit_breaker_state, /ready names the component and
// the backend), clients then get a fast 503 without the peer being called,
// and once the peer behaves the circuit goes half-open (after its 10 s
// cooldown) and closed, /ready is 200 again and requests succeed.
//
// The four faults of one backend run at once (one server and one peer each)
// so that the cooldowns overlap: each test takes about 15 s.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <future>
#include <thread>

#include "fault_peer.h"
#include "fault_support.h"

namespace scribepod::testing {
namespace {

using namespace std::chrono_literals;

enum class Kind { kLlm, kAsr };
enum class Fault { kDown, kSlow, k500, k429 };

constexpr int kAttempts = 3;          // llm/asr.remote_attempts
constexpr int kBreakerThreshold = 5;  // remote::BreakerOptions default
constexpr auto kCooldown = 10s;       // remote::BreakerOptions default
constexpr auto kRemoteTimeout = 400ms;
constexpr auto kSlowAnswer = 5s;  // well past kRemoteTimeout
// A request refused by an open circuit makes no backend call: only our own
// work is left (for ASR: decoding and the VAD gate of 2.6 s of audio, on a
// Debug build sharing two cores with three other servers). Failing requests
// take from ~0.4 s (500, with backoff) to ~2 s (429 honouring Retry-After).
#if defined(__SANITIZE_ADDRESS__)
constexpr double kSlowdown = 3;  // ASan + UBSan
#else
constexpr double kSlowdown = 1;
#endif
constexpr double kLlmFastFailMs = 100 * kSlowdown;
constexpr double kAsrFastFailMs = 500 * kSlowdown;

const char* fault_name(Fault f) {
  switch (f) {
    case Fault::kDown:
      return "down";
    case Fault::kSlow:
      return "slow";
    case Fault::k500:
      return "500";
    case Fault::k429:
      return "429";
  }
  return "?";
}

struct Figures {
  std::string name;
  std::vector<int> attempts;  // per request, until the circuit refused one
  std::vector<unsigned> statuses;
  std::vector<double> ms;
  double fast_fail_ms = -1;
  double open_to_ready_ms = -1;  // start of the request that opened it -> /ready 200
  double recovery_ms = -1;       // peer healthy -> first successful request
};

class RemoteScenario {
 public:
  RemoteScenario(Kind kind, Fault fault, std::string wav)
      : kind_(kind), fault_(fault), wav_(std::move(wav)), peer_(fault == Fault::kDown) {
    figures_.name = std::string(kind == Kind::kLlm ? "llm" : "asr") + "/" + fault_name(fault);
  }

  Figures run() {
    inject();
    std::string error;
    server_ = try_serve(args(), {}, error);
    if (server_ == nullptr) {
      ADD_FAILURE() << figures_.name << ": " << error;
      return figures_;
    }
    EXPECT_EQ(http_get(port(), "/ready").status, 200u) << figures_.name;
    fail_until_open();
    if (opened_) recover();
    if (::testing::Test::HasFailure()) std::cerr << server_->describe() << "\n";
    return figures_;
  }

 private:
  std::uint16_t port() const { return server_->port(); }
  std::string backend() const { return kind_ == Kind::kLlm ? "openai" : "remote-asr"; }
  std::string component() const { return kind_ == Kind::kLlm ? "mind" : "asr"; }
  std::string labels() const { return "backend=\"" + backend() + "\""; }

  std::vector<std::string> args() const {
    const std::string timeout = std::to_string(kRemoteTimeout.count()) + "ms";
    std::vector<std::string> a = {"--set", "rate_limit.enabled=false"};
    if (kind_ == Kind::kLlm) {
      for (const std::string& kv :
           {std::string("mind.engine=openai"), "llm.remote_url=" + peer_.url(),
            "llm.remote_timeout=" + timeout, "llm.remote_attempts=" + std::to_string(kAttempts),
            "mind.prompts_dir=" + source_dir() + "/prompts"}) {
        a.insert(a.end(), {"--set", kv});
      }
    } else {
      for (const std::string& kv :
           {std::string("asr.engine=remote"), "asr.remote_url=" + peer_.url(),
            "asr.remote_timeout=" + timeout, "asr.remote_attempts=" + std::to_string(kAttempts)}) {
        a.insert(a.end(), {"--set", kv});
      }
    }
    return a;
  }

  void inject() {
    switch (fault_) {
      case Fault::kDown:
        peer_.down();
        break;
      case Fault::kSlow:
        peer_.slow(kSlowAnswer);
        break;
      case Fault::k500:
        peer_.fail(500);
        break;
      case Fault::k429:
        // First a Retry-After beyond the retry policy's max_delay (5 s): no
        // retry, the advice is passed on. Then one it honours.
        peer_.fail(429, "30");
        break;
    }
  }

  unsigned expected_failure_status() const {
    switch (fault_) {
      case Fault::kSlow:
        return 504;
      case Fault::k429:
        return 503;
      default:
        return 502;
    }
  }

  TimedResponse call() const {
    TimedResponse out;
    const auto start = Clock::now();
    try {
      HttpConnection conn(port());
      const std::string request =
          kind_ == Kind::kLlm
              ? make_request(
                    "POST", "/generate_thots", {{"Content-Type", "application/json"}},
                    R"({"conversation_speech":["go forward ten meters","then turn left"]})")
              : make_request("POST", "/transcribe", multipart_headers(),
                             multipart_body("audio_data", wav_));
      if (!conn.send(request)) throw std::runtime_error("connection closed while sending");
      out.response = conn.read(20s);
    } catch (const std::exception& e) {
      out.transport_error = true;
      out.error = e.what();
    }
    out.ms = ms_since(start);
    return out;
  }

  double retries() const {
    return metric_value(port(), "scribepod_remote_retries_total", labels()).value_or(0);
  }

  // Sends requests until one is refused by the open circuit without any
  // attempt. Each request makes at most kAttempts attempts; the breaker opens
  // at the kBreakerThreshold-th consecutive failed attempt, cutting the
  // request that made it short.
  void fail_until_open() {
    const std::string& n = figures_.name;
    int failures = 0;
    for (int i = 0; i < 6; ++i) {
      const int attempt_limit = (fault_ == Fault::k429 && i == 0) ? 1 : kAttempts;
      const int expected = std::min(attempt_limit, kBreakerThreshold - failures);
      const std::size_t hits_before = peer_.hits();
      const double retries_before = retries();
      const auto request_start = Clock::now();
      const TimedResponse r = call();
      ASSERT_FALSE(r.transport_error) << n << ": " << r.error;
      const HttpResponse& res = r.response;
      const std::string message = res.json().value("message", "");
      const bool refused = message.find("circuit open") != std::string::npos;
      const int attempts = static_cast<int>(retries() - retries_before) + (refused ? 0 : 1);
      figures_.attempts.push_back(attempts);
      figures_.statuses.push_back(res.status);
      figures_.ms.push_back(r.ms);
      EXPECT_EQ(attempts, expected) << n << " request " << i << ": " << res.body;
      EXPECT_LE(attempts, kAttempts) << n;
      if (fault_ != Fault::kDown) {
        EXPECT_EQ(peer_.hits() - hits_before, static_cast<std::size_t>(attempts))
            << n << " request " << i << ": the peer's count disagrees";
      }
      failures += attempts;
      // The breaker opened during this request: no earlier than its start.
      if (attempts > 0 && failures == kBreakerThreshold) opened_at_ = request_start;
      if (attempts == 0) {
        // Open: refused before any call, quickly, with advice to come back.
        EXPECT_TRUE(IsJsonError(res, 503, "unavailable"))
            << n << ": " << res.head_text() << res.body;
        EXPECT_TRUE(refused) << n << ": " << message;
        EXPECT_NE(res.header("Retry-After"), "") << n;
        EXPECT_LT(r.ms, kind_ == Kind::kLlm ? kLlmFastFailMs : kAsrFastFailMs)
            << n << ": an open circuit must fail fast";
        figures_.fast_fail_ms = r.ms;
        opened_ = true;
        break;
      }
      if (refused) {
        EXPECT_EQ(res.status, 503u) << n << ": " << res.body;
      } else if (fault_ == Fault::k429 && i == 0) {
        EXPECT_TRUE(IsJsonError(res, 503, "unavailable")) << n << ": " << res.body;
        EXPECT_EQ(res.header("Retry-After"), "30") << n << ": the backend's advice is passed on";
        // Not retried: no 30 s wait, nor even the 5 s of the policy's max_delay.
        EXPECT_LT(r.ms, 3000) << n << ": a long Retry-After must not hold the request";
        peer_.fail(429, "1");
      } else {
        EXPECT_EQ(res.status, expected_failure_status()) << n << ": " << res.body;
        if (fault_ == Fault::k429) {
          EXPECT_EQ(res.header("Retry-After"), "1") << n;
          EXPECT_GE(r.ms, 1800) << n << ": Retry-After: 1 was not honoured between attempts";
        }
        if (fault_ == Fault::kSlow) {
          EXPECT_GE(r.ms, 3 * static_cast<double>(kRemoteTimeout.count()) * 0.9) << n;
          EXPECT_LT(r.ms, static_cast<double>(std::chrono::milliseconds(kSlowAnswer).count()))
              << n << ": timeout not applied";
        }
      }
    }
    ASSERT_EQ(failures, kBreakerThreshold) << n << ": the circuit never refused a request";

    // The open circuit shows: /ready names the component and the backend,
    // the gauge says open (2), /health stays ok.
    const HttpResponse ready = http_get(port(), "/ready");
    EXPECT_EQ(ready.status, 503u) << n << ": " << ready.body;
    const auto body = ready.json();
    bool named = false;
    for (const auto& c : body.value("notReady", nlohmann::json::array())) named |= c == component();
    EXPECT_TRUE(named) << n << ": " << ready.body;
    const std::string detail =
        body["components"].value(component(), nlohmann::json::object()).value("detail", "");
    EXPECT_NE(detail.find("circuit open"), std::string::npos) << n << ": " << detail;
    EXPECT_NE(detail.find("127.0.0.1:" + std::to_string(peer_.port())), std::string::npos)
        << n << ": " << detail;
    EXPECT_EQ(metric_value(port(), "scribepod_circuit_breaker_state", labels()), 2.0) << n;
    EXPECT_EQ(http_get(port(), "/health").status, 200u) << n;
  }

  void recover() {
    const std::string& n = figures_.name;
    const auto fixed_at = Clock::now();
    peer_.healthy();
    // Half-open after the cooldown: /ready turns 200 before any request.
    bool ready = false;
    while (ms_since(opened_at_) < 15000) {
      if (http_get(port(), "/ready").status == 200) {
        ready = true;
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(ready) << n << ": /ready still 503 15 s after the circuit opened";
    figures_.open_to_ready_ms = ms_since(opened_at_);
    EXPECT_GE(figures_.open_to_ready_ms, 0.98 * 1000.0 * kCooldown.count()) << n;
    EXPECT_EQ(metric_value(port(), "scribepod_circuit_breaker_state", labels()), 1.0)
        << n << ": expected half-open";

    const std::size_t hits_before = peer_.hits();
    const TimedResponse r = call();
    ASSERT_FALSE(r.transport_error) << n << ": " << r.error;
    EXPECT_EQ(r.response.status, 200u) << n << ": " << r.response.body;
    if (kind_ == Kind::kLlm) {
      EXPECT_EQ(r.response.json().value("response", ""), "Going forward ten meters.") << n;
    } else {
      EXPECT_NE(r.response.body.find(FaultPeer::kTranscript), std::string::npos) << n;
    }
    EXPECT_EQ(peer_.hits() - hits_before, 1u) << n << ": the probe is one call";
    figures_.recovery_ms = ms_since(fixed_at);
    EXPECT_EQ(metric_value(port(), "scribepod_circuit_breaker_state", labels()), 0.0)
        << n << ": expected closed";
    EXPECT_EQ(http_get(port(), "/ready").status, 200u) << n;
    EXPECT_EQ(call().response.status, 200u) << n << ": second request after recovery";
    EXPECT_TRUE(server_->running()) << n;
  }

  Kind kind_;
  Fault fault_;
  std::string wav_;
  FaultPeer peer_;
  std::unique_ptr<ServerProcess> server_;
  Figures figures_;
  Clock::time_point opened_at_{};
  bool opened_ = false;
};

void print(const Figures& f) {
  std::string attempts;
  for (std::size_t i = 0; i < f.attempts.size(); ++i) {
    attempts += (i ? ", " : "") + std::to_string(f.attempts[i]) + " attempts -> " +
                std::to_string(f.statuses[i]) + " in " + std::to_string(static_cast<int>(f.ms[i])) +
                " ms";
  }
  std::printf("[fault] %-10s %s | fast-fail %.1f ms | open->ready %.0f ms | recovery %.0f ms\n",
              f.name.c_str(), attempts.c_str(), f.fast_fail_ms, f.open_to_ready_ms, f.recovery_ms);
  ::testing::Test::RecordProperty(f.name + "_fast_fail_ms", std::to_string(f.fast_fail_ms));
  ::testing::Test::RecordProperty(f.name + "_recovery_ms", std::to_string(f.recovery_ms));
}

void run_all_faults(Kind kind) {
  const std::string pcm = read_speech("goforward.raw");
  ASSERT_FALSE(pcm.empty()) << "goforward.raw is part of pocketsphinx-testdata";
  const std::string wav = wav_from_pcm16(pcm);
  std::vector<std::future<Figures>> runs;
  for (Fault f : {Fault::kDown, Fault::kSlow, Fault::k500, Fault::k429}) {
    runs.push_back(std::async(std::launch::async,
                              [kind, f, wav] { return RemoteScenario(kind, f, wav).run(); }));
  }
  for (auto& r : runs) print(r.get());
}

TEST(RemoteFaultTest, RemoteLlmDownSlow500And429OpenTheCircuitThenRecover) {
  run_all_faults(Kind::kLlm);
}

TEST(RemoteFaultTest, RemoteRecognizerDownSlow500And429OpenTheCircuitThenRecover) {
  run_all_faults(Kind::kAsr);
}

}  // namespace
}  // namespace scribepod::testing
