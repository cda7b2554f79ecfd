#include "remote/backend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "telemetry/log.h"
#include "test_peer.h"

namespace scribepod::remote {
namespace {

using scribepod::testing::ScriptedResponse;
using scribepod::testing::TestPeer;
using std::chrono::milliseconds;
using std::chrono::seconds;

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Sends the process log to a file for the length of a test, so a test can
// read what an operator would see.
class LogCapture {
 public:
  LogCapture() {
    dir_ = std::filesystem::temp_directory_path() /
           ("scribepod-remote-log-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    EXPECT_TRUE(
        log::init(
            {.level = log::Level::kDebug, .json = true, .to_stdout = false, .dir = dir_.string()})
            .ok());
  }
  ~LogCapture() { std::filesystem::remove_all(dir_); }

  // Flushes and returns every line logged so far with the given message.
  std::vector<nlohmann::json> lines(const std::string& message) {
    log::shutdown();
    std::vector<nlohmann::json> out;
    std::ifstream in(dir_ / "combined.log");
    for (std::string l; std::getline(in, l);) {
      auto j = nlohmann::json::parse(l);
      if (j["message"] == message) out.push_back(std::move(j));
    }
    raw_ = std::string(std::istreambuf_iterator<char>(std::ifstream(dir_ / "combined.log").rdbuf()),
                       {});
    return out;
  }
  const std::string& raw() const { return raw_; }

 private:
  std::filesystem::path dir_;
  std::string raw_;
};

// Records requested sleeps instead of sleeping.
struct RecordedSleeps {
  std::vector<milliseconds> delays;
  RetryHooks hooks(double u = 0.0) {
    return {.sleep = [this](milliseconds d) { delays.push_back(d); },
            .uniform01 = [u] { return u; }};
  }
};

ClientOptions fast_client() {
  return {.connect_timeout = milliseconds(1000),
          .total_timeout = milliseconds(2000),
          .max_response_bytes = 1 << 20};
}

TEST(BackendTest, SuccessSendsBearerKeyAndResolvesPathUnderBaseUrl) {
  TestPeer peer;
  peer.push({.status = 200, .body = "{}"});
  LogCapture logs;
  Backend backend("llm", peer.url() + "/", "sk-test-123", fast_client(), RetryPolicy{},
                  BreakerOptions{});
  auto r = backend.call({.method = "POST", .url = "/v1/chat", .body = "{}"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  const auto seen = peer.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/v1/chat");
  EXPECT_EQ(seen[0].header("authorization"), "Bearer sk-test-123");
  EXPECT_EQ(logs.lines("remote call").size(), 1u);
  EXPECT_EQ(logs.raw().find("sk-test-123"), std::string::npos) << "the key must never be logged";
}

TEST(BackendTest, NoKeyNoAuthorizationHeader) {
  TestPeer peer;
  Backend backend("llm", peer.url(), "", fast_client(), RetryPolicy{}, BreakerOptions{});
  ASSERT_TRUE(backend.call({.url = "/x"}).ok());
  EXPECT_EQ(peer.requests().at(0).header("authorization"), "");
}

TEST(BackendTest, ServerErrorThenSuccessIsRetriedOnceAndLogged) {
  TestPeer peer;
  peer.push({.status = 500, .body = R"({"error":{"message":"model crashed"}})"});
  peer.push({.status = 200, .body = "fine"});
  LogCapture logs;
  const RetryPolicy policy{
      .max_attempts = 3, .base_delay = milliseconds(100), .max_delay = seconds(5), .jitter = 0.5};
  Backend backend("asr", peer.url(), "k", fast_client(), policy, BreakerOptions{});
  const auto start = std::chrono::steady_clock::now();
  auto r = backend.call({.url = "/t"});
  const double took = ms_since(start);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "fine");
  const auto seen = peer.requests();
  ASSERT_EQ(seen.size(), 2u);
  const double gap = std::chrono::duration<double, std::milli>(seen[1].at - seen[0].at).count();
  std::cout << "[timing] 500 then 200: 2 attempts, gap between attempts " << gap
            << " ms (backoff 50..100 ms), call " << took << " ms\n";
  EXPECT_GE(gap, 50.0);
  EXPECT_LT(gap, 1000.0);

  const auto retries = logs.lines("retrying remote call");
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0]["level"], "warn");
  EXPECT_EQ(retries[0]["backend"], "asr");
  EXPECT_EQ(retries[0]["attempt"], 1);
  EXPECT_EQ(retries[0]["reason"], "status 500");
  EXPECT_GE(retries[0]["delay_ms"].get<int>(), 50);
  EXPECT_LE(retries[0]["delay_ms"].get<int>(), 100);
}

// A backend's 5xx body is its own internals (here a Python traceback): it is
// logged, never put in the error our client sees.
TEST(BackendTest, ServerErrorBodiesStayOutOfTheMessage) {
  TestPeer peer;
  peer.push({.status = 500,
             .body = "Traceback (most recent call last):\n  File \"/srv/app.py\", line 12\n"
                     "KeyError: 'audio_data'"});
  RecordedSleeps sleeps;
  Backend backend("asr", peer.url(), "", fast_client(), RetryPolicy{.max_attempts = 1},
                  BreakerOptions{.failure_threshold = 5}, sleeps.hooks());
  auto r = backend.call({.url = "/t"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(r.error().message, "backend asr answered 500");
}

TEST(BackendTest, ClientErrorsAreNotRetried) {
  TestPeer peer;
  for (int status : {400, 401, 403, 404, 413, 415, 422}) {
    peer.push({.status = status, .body = R"({"error":{"message":"Invalid file format."}})"});
  }
  RecordedSleeps sleeps;
  Backend backend("asr", peer.url(), "", fast_client(), RetryPolicy{},
                  BreakerOptions{.failure_threshold = 1}, sleeps.hooks());
  for (int status : {400, 401, 403, 404, 413, 415, 422}) {
    auto r = backend.call({.url = "/t"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code,
              status == 413 ? ErrorCode::kPayloadTooLarge : ErrorCode::kUpstreamFailed);
    EXPECT_EQ(r.error().message,
              "backend asr answered " + std::to_string(status) + ": Invalid file format.");
  }
  EXPECT_EQ(peer.request_count(), 7u);  // one attempt each
  EXPECT_TRUE(sleeps.delays.empty());
  EXPECT_EQ(backend.breaker().state(), BreakerState::kClosed);  // 4xx says the backend is alive
}

TEST(BackendTest, TooManyRequestsHonoursRetryAfterSeconds) {
  TestPeer peer;
  peer.push({.status = 429, .headers = {{"Retry-After", "1"}}, .body = "slow down"});
  peer.push({.status = 200, .body = "ok"});
  LogCapture logs;
  Backend backend(
      "asr", peer.url(), "", fast_client(),
      {.max_attempts = 3, .base_delay = milliseconds(10), .max_delay = seconds(5), .jitter = 0.5},
      BreakerOptions{});
  auto r = backend.call({.url = "/t"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto seen = peer.requests();
  ASSERT_EQ(seen.size(), 2u);
  const double gap = std::chrono::duration<double, std::milli>(seen[1].at - seen[0].at).count();
  std::cout << "[timing] 429 Retry-After: 1 -> next attempt after " << gap << " ms\n";
  EXPECT_GE(gap, 1000.0);
  EXPECT_LT(gap, 2000.0);
  const auto retries = logs.lines("retrying remote call");
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0]["delay_ms"], 1000);
  EXPECT_EQ(retries[0]["retry_after"], true);
  EXPECT_EQ(retries[0]["reason"], "status 429");
}

TEST(BackendTest, RetryAfterHttpDateIsHonoured) {
  TestPeer peer;
  char date[64];
  const std::time_t in_3s = std::time(nullptr) + 3;
  std::tm tm{};
  gmtime_r(&in_3s, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  peer.push({.status = 503, .headers = {{"Retry-After", date}}});
  peer.push({.status = 200});
  RecordedSleeps sleeps;
  Backend backend("asr", peer.url(), "", fast_client(), RetryPolicy{}, BreakerOptions{},
                  sleeps.hooks());
  ASSERT_TRUE(backend.call({.url = "/t"}).ok());
  ASSERT_EQ(sleeps.delays.size(), 1u);
  EXPECT_GT(sleeps.delays[0], milliseconds(1000));  // whole seconds in the header
  EXPECT_LE(sleeps.delays[0], milliseconds(3000));
}

TEST(BackendTest, RetryAfterBeyondMaxDelayFailsFastWithRetryAfter) {
  TestPeer peer;
  peer.push(
      {.status = 429, .headers = {{"Retry-After", "30"}}, .body = R"({"error":"rate limited"})"});
  RecordedSleeps sleeps;
  Backend backend("asr", peer.url(), "", fast_client(), RetryPolicy{}, BreakerOptions{},
                  sleeps.hooks());
  const auto start = std::chrono::steady_clock::now();
  auto r = backend.call({.url = "/t"});
  EXPECT_LT(ms_since(start), 500.0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().retry_after, seconds(30));
  EXPECT_EQ(r.error().message, "backend asr answered 429: rate limited");
  EXPECT_EQ(peer.request_count(), 1u);
  EXPECT_TRUE(sleeps.delays.empty());
}

TEST(BackendTest, PersistentServerErrorGivesUpAfterMaxAttemptsWithExponentialDelays) {
  TestPeer peer;
  peer.set_default({.status = 502, .body = "bad gateway"});
  RecordedSleeps sleeps;
  Backend backend("asr", peer.url(), "", fast_client(),
                  {.max_attempts = 4,
                   .base_delay = milliseconds(200),
                   .max_delay = milliseconds(500),
                   .jitter = 0.5},
                  BreakerOptions{}, sleeps.hooks(0.0));
  auto r = backend.call({.url = "/t"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(peer.request_count(), 4u);
  EXPECT_EQ(sleeps.delays,
            (std::vector<milliseconds>{milliseconds(200), milliseconds(400), milliseconds(500)}));
}

TEST(BackendTest, ConnectionRefusedFailsAfterMaxAttempts) {
  const std::string url = "http://127.0.0.1:" + std::to_string(scribepod::testing::unused_port());
  LogCapture logs;
  Backend backend(
      "asr", url, "", fast_client(),
      {.max_attempts = 3, .base_delay = milliseconds(50), .max_delay = seconds(1), .jitter = 0.5},
      BreakerOptions{});
  const auto start = std::chrono::steady_clock::now();
  auto r = backend.call({.url = "/v1/audio/transcriptions"});
  const double took = ms_since(start);
  std::cout << "[timing] connection refused, 3 attempts (backoff 25..50 + 50..100 ms): " << took
            << " ms\n";
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_NE(r.error().message.find("cannot connect to " + url + "/v1/audio/transcriptions"),
            std::string::npos)
      << r.error().message;
  EXPECT_GE(took, 75.0);
  EXPECT_EQ(logs.lines("retrying remote call").size(), 2u);
  const auto failed = logs.lines("remote call failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["attempts"], 3);
  EXPECT_EQ(failed[0]["reason"], "connect");
}

TEST(BackendTest, SlowServerTimesOutAfterEachAttempt) {
  TestPeer peer;
  peer.set_default({.status = 200, .delay = milliseconds(5000)});
  Backend backend(
      "asr", peer.url(), "",
      {.connect_timeout = milliseconds(500), .total_timeout = milliseconds(250)},
      {.max_attempts = 2, .base_delay = milliseconds(20), .max_delay = seconds(1), .jitter = 0.0},
      BreakerOptions{});
  const auto start = std::chrono::steady_clock::now();
  auto r = backend.call({.url = "/t"});
  const double took = ms_since(start);
  std::cout << "[timing] slow server, total_timeout 250 ms x 2 attempts + 20 ms backoff: " << took
            << " ms\n";
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamTimeout);
  EXPECT_EQ(peer.request_count(), 2u);
  EXPECT_GE(took, 2 * 250.0 + 20.0 - 10.0);
  EXPECT_LT(took, 2 * 250.0 + 20.0 + 400.0);
}

TEST(BackendTest, BreakerOpensFailsFastHalfOpensAndCloses) {
  TestPeer peer;
  peer.set_default({.status = 503, .body = "down"});
  LogCapture logs;
  const BreakerOptions breaker{.failure_threshold = 5, .cooldown = milliseconds(300)};
  RecordedSleeps sleeps;
  Backend backend(
      "asr", peer.url(), "", fast_client(),
      {.max_attempts = 1, .base_delay = milliseconds(10), .max_delay = seconds(1), .jitter = 0.5},
      breaker, sleeps.hooks());

  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(backend.breaker().state(), BreakerState::kClosed) << i;
    auto r = backend.call({.url = "/t"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "backend asr answered 503");  // its body is logged only
  }
  EXPECT_EQ(backend.breaker().state(), BreakerState::kOpen);
  EXPECT_EQ(peer.request_count(), 5u);

  // Open: refused without touching the network. Judged on the 90th
  // percentile, since a loaded 2-core machine may preempt any single call.
  std::vector<double> took_ms;
  for (int i = 0; i < 100; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto r = backend.call({.url = "/t"});
    took_ms.push_back(ms_since(start));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(r.error().message, "backend asr unavailable (circuit open), retry in 1 s");
    EXPECT_EQ(r.error().retry_after, seconds(1));
  }
  std::sort(took_ms.begin(), took_ms.end());
  std::cout << "[timing] circuit open, 100 refused calls: median " << took_ms[50] << " ms, p90 "
            << took_ms[90] << " ms, max " << took_ms[99] << " ms\n";
  EXPECT_LT(took_ms[90], 5.0);
  EXPECT_EQ(peer.request_count(), 5u);

  // Half-open after the cooldown: one probe; it fails, so open again.
  std::this_thread::sleep_for(milliseconds(320));
  EXPECT_EQ(backend.breaker().state(), BreakerState::kHalfOpen);
  EXPECT_FALSE(backend.call({.url = "/t"}).ok());
  EXPECT_EQ(peer.request_count(), 6u);
  EXPECT_EQ(backend.breaker().state(), BreakerState::kOpen);

  // The backend recovers; the next probe closes the circuit.
  peer.set_default({.status = 200, .body = "back"});
  std::this_thread::sleep_for(milliseconds(320));
  const auto probe_start = std::chrono::steady_clock::now();
  auto r = backend.call({.url = "/t"});
  std::cout << "[timing] half-open probe after 300 ms cooldown answered in "
            << ms_since(probe_start) << " ms\n";
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(backend.breaker().state(), BreakerState::kClosed);
  EXPECT_TRUE(backend.call({.url = "/t"}).ok());
  EXPECT_EQ(peer.request_count(), 8u);

  EXPECT_EQ(logs.lines("circuit opened").size(), 1u);
  EXPECT_EQ(logs.lines("circuit closed").size(), 1u);
  EXPECT_EQ(logs.lines("circuit probe failed, reopened").size(), 1u);
}

TEST(BackendTest, BreakerCountsRetriedAttempts) {
  const std::string url = "http://127.0.0.1:" + std::to_string(scribepod::testing::unused_port());
  RecordedSleeps sleeps;
  Backend backend("asr", url, "", fast_client(), RetryPolicy{.max_attempts = 3},
                  BreakerOptions{.failure_threshold = 5, .cooldown = seconds(10)}, sleeps.hooks());
  auto first = backend.call({.url = "/t"});
  EXPECT_EQ(first.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(backend.breaker().state(), BreakerState::kClosed);
  // The second call's fifth attempt opens the circuit; the sixth is refused.
  auto second = backend.call({.url = "/t"});
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(second.error().retry_after, seconds(10));
  EXPECT_EQ(backend.breaker().state(), BreakerState::kOpen);
}

TEST(BackendTest, OversizedResponseIsNotRetried) {
  TestPeer peer;
  peer.set_default({.status = 200, .body = std::string(2 << 20, 'x')});
  RecordedSleeps sleeps;
  Backend backend("llm", peer.url(), "", fast_client(), RetryPolicy{}, BreakerOptions{},
                  sleeps.hooks());
  auto r = backend.call({.url = "/t"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_NE(r.error().message.find("larger than the limit"), std::string::npos);
  EXPECT_EQ(peer.request_count(), 1u);
}

TEST(BackendTest, DroppedConnectionIsRetried) {
  TestPeer peer;
  peer.push({.drop = true});
  peer.push({.status = 200, .body = "ok"});
  RecordedSleeps sleeps;
  Backend backend("llm", peer.url(), "", fast_client(), RetryPolicy{}, BreakerOptions{},
                  sleeps.hooks());
  auto r = backend.call({.url = "/t"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(peer.request_count(), 2u);
  EXPECT_EQ(sleeps.delays.size(), 1u);
}

TEST(BackendTest, SharedByManyThreads) {
  TestPeer peer;
  peer.set_default({.status = 200, .body = "ok", .delay = milliseconds(5)});
  Backend backend("llm", peer.url(), "key", fast_client(), RetryPolicy{}, BreakerOptions{});
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) ok += backend.call({.url = "/t"}).ok() ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 60);
}

}  // namespace
}  // namespace scribepod::remote
