// The original plan's Phase 1 and Phase 2 verification checklists
// (shared/seed, "PHASE 1 VERIFICATION CHECKLIST" and "PHASE 2 VERIFICATION
// CHECKLIST"), one test per item, against the real `scribepod serve`
// (PocketSphinx, heuristic mind, SQLite history). Each test quotes the item
// it proves. Where the plan says Python or Node, the test checks our
// equivalent: the Whisper server is our recogniser (embedded, or remote
// over HTTP), the Express gateway is our HTTP server.
//
// Remote backends are FakeBackend processes-in-thread on loopback: a real
// TCP peer that is down (a closed port), hung (accepts, never answers), or
// answers a canned status. Some items are also covered in more depth by
// tests/integration (cors, limits, rate_limit, logs, timeouts, health); the
// tests here stay short and exist so that the checklist is one suite.
#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "acceptance_support.h"

namespace scribepod::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kAdminKey = "acceptance-admin-key";
// A WAV header with no audio behind it: corrupt input (400).
const std::string kCorruptWav("RIFF\x10\0\0\0WAVEjunk", 16);

// The repository root (CTest sets SCRIBEPOD_SOURCE_DIR).
std::string source_dir() {
  const char* root = std::getenv("SCRIBEPOD_SOURCE_DIR");
  return root != nullptr ? root : ".";
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::size_t entries_in(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

std::size_t open_fds(pid_t pid) {
  return entries_in(fs::path("/proc") / std::to_string(pid) / "fd");
}

// Real speech shared by the suite: "go forward ten meters" as WAV.
class Acceptance : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    go_wav_ = encode_speech(*dir_, "goforward.raw", "go.wav");
    digits_wav_ = encode_speech(*dir_, "tidigits/dhd.2934z.raw", "digits.wav");
    // "go forward" (1.2 s): the many-transcriptions test's clip.
    short_wav_ = encode_speech(*dir_, "goforward.raw", "short.wav", "-t 1.2");
  }
  static void TearDownTestSuite() { dir_.reset(); }
  void SetUp() override {
    ASSERT_FALSE(go_wav_.empty()) << "ffmpeg could not encode goforward.raw";
    ASSERT_FALSE(digits_wav_.empty());
    ASSERT_FALSE(short_wav_.empty());
  }

  static HttpResponse transcribe(std::uint16_t port, const std::string& audio,
                                 const std::string& type = "audio/wav", Headers extra = {}) {
    Headers h = form_headers();
    h.insert(h.end(), extra.begin(), extra.end());
    return http_post(port, "/transcribe", multipart("audio_data", audio, type), h);
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string go_wav_;
  static inline std::string digits_wav_;
  static inline std::string short_wav_;
};

// ---------------------------------------------------------------- Phase 1

// "No hardcoded URLs in codebase (search for "localhost", "0.0.0.0",
// "http://")". For us: no string literal in src/ or web/src names a host;
// the only URL literals allowed are bare schemes (URL parsing) and the
// built-in model catalog's download sources (`scribepod models pull`,
// never contacted otherwise). Every backend URL comes from configuration.
TEST_F(Acceptance, Phase1_NoHardcodedUrlsInCodebase) {
  const std::string root = source_dir();
  // A quoted literal holding scheme://host; comments are skipped.
  const std::regex url_literal(R"re("[^"\n]*\b(https?|wss?)://[A-Za-z0-9\[][^"\n]*")re");
  const std::set<std::string> allowed = {"src/models/catalog.cpp"};
  std::vector<std::string> found;
  std::size_t scanned = 0;
  for (const char* sub : {"src", "web/src"}) {
    const fs::path base = fs::path(root) / sub;
    if (!fs::exists(base)) continue;
    for (const auto& e : fs::recursive_directory_iterator(base)) {
      const std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || !(ext == ".cpp" || ext == ".h" || ext == ".ts")) continue;
      ++scanned;
      const std::string rel = fs::relative(e.path(), root).string();
      std::ifstream in(e.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        // Whole-line comments only: a URL literal itself contains "//".
        const auto first = line.find_first_not_of(" \t");
        if (first != std::string::npos && line.compare(first, 2, "//") == 0) continue;
        if (std::regex_search(line, url_literal) && !allowed.count(rel))
          found.push_back(rel + ":" + std::to_string(n) + ": " + line);
      }
    }
  }
  EXPECT_GT(scanned, 50u) << "wrong source root " << root;
  std::string list;
  for (const auto& f : found) list += "\n  " + f;
  EXPECT_TRUE(found.empty()) << "hard-coded URLs (backend URLs must come from config):" << list;

  // The effective default configuration names no backend URL at all.
  const CliResult cfg = run_cli({"config"});
  ASSERT_EQ(cfg.exit_code, 0) << cfg.err;
  EXPECT_EQ(cfg.out.find("http://"), std::string::npos) << cfg.out;
  EXPECT_EQ(cfg.out.find("https://"), std::string::npos) << cfg.out;
}

// "Environment variables accessible from code": a backend URL given only in
// the environment is the one the server calls.
TEST_F(Acceptance, Phase1_BackendUrlComesFromEnvironment) {
  FakeBackend asr(FakeBackend::Mode::kAnswer, 200, R"({"text":"configured backend"})");
  auto server = ServerProcess::serve(
      {}, {{"SCRIBEPOD_ASR_ENGINE", "remote"}, {"SCRIBEPOD_ASR_REMOTE_URL", asr.url()}});
  const HttpResponse res = transcribe(server->port(), go_wav_);
  ASSERT_EQ(res.status, 200u) << res.head_text() << res.body << server->describe();
  EXPECT_EQ(res.body.substr(0, res.body.find_last_not_of("\r\n") + 1), "configured backend");
  EXPECT_EQ(asr.requests(), 1);
}

// "Test with wrong origin fails" / "Test with correct origin succeeds"
// (curl -H "Origin: http://evil.com" .../health).
TEST_F(Acceptance, Phase1_CorsRestrictedToAllowedOrigins) {
  auto server = ServerProcess::serve({}, {{"CORS_ALLOWED_ORIGINS", "http://localhost:3000"}});
  const HttpResponse good =
      http_get(server->port(), "/health", {{"Origin", "http://localhost:3000"}});
  EXPECT_EQ(good.status, 200u);
  EXPECT_EQ(good.header("Access-Control-Allow-Origin"), "http://localhost:3000")
      << good.head_text();
  const HttpResponse evil = http_get(server->port(), "/health", {{"Origin", "http://evil.com"}});
  EXPECT_FALSE(evil.has("Access-Control-Allow-Origin")) << evil.head_text();
  const HttpResponse preflight =
      http_options(server->port(), "/conversation",
                   {{"Origin", "http://evil.com"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(preflight.status, 403u) << preflight.head_text();
  EXPECT_FALSE(preflight.has("Access-Control-Allow-Origin"));
}

// "Start 2 different sessions, verify both appear in stats"
// (curl -H "X-Session-Id: user1" ... ; curl /sessions/stats).
TEST_F(Acceptance, Phase1_TwoSessionsAppearInStats) {
  auto server = ServerProcess::serve({}, {{"ADMIN_API_KEY", kAdminKey}});
  std::set<std::string> ids;
  for (const char* user : {"user1", "user2"}) {
    (void)user;  // the plan's ids; ours are issued by the server
    const HttpResponse res = http_post(server->port(), "/conversation?chunk=1",
                                       multipart("audio_data", go_wav_), form_headers());
    ASSERT_EQ(res.status, 200u) << res.body;
    ids.insert(res.json().value("sessionId", ""));
  }
  ASSERT_EQ(ids.size(), 2u);
  const HttpResponse stats =
      http_get(server->port(), "/sessions/stats", {{"X-API-Key", kAdminKey}});
  ASSERT_EQ(stats.status, 200u) << stats.body;
  const auto j = stats.json();
  EXPECT_EQ(j.value("activeSessions", -1), 2) << stats.body;
  std::set<std::string> listed;
  for (const auto& s : j["sessions"]) listed.insert(s.value("sessionId", ""));
  EXPECT_EQ(listed, ids) << stats.body;
  for (const auto& s : j["sessions"]) EXPECT_EQ(s.value("conversationLength", 0), 1) << s;
}

// "No temp file accumulation" / "Cleanup works even on errors": 50
// transcriptions (and 10 corrupt uploads) leave the temp directory, the
// working directory and the open file descriptors as they were.
TEST_F(Acceptance, Phase1_NoTempFileAccumulationAfter50Transcriptions) {
  TempDir tmp;
  auto server = ServerProcess::serve({"--set", "rate_limit.enabled=false"},
                                     {{"TMPDIR", tmp.path().string()}});
  // Warm up (first decode, lazily opened files), then take the baseline.
  ASSERT_EQ(transcribe(server->port(), short_wav_).status, 200u);
  const std::size_t tmp0 = entries_in(tmp.path()), cwd0 = entries_in(server->cwd());
  const std::size_t fds0 = open_fds(server->pid());
  std::atomic<int> ok{0}, rejected{0};
  auto worker = [&](int n) {
    for (int i = 0; i < n; ++i) {
      if (transcribe(server->port(), short_wav_).status == 200u) ++ok;
      if (i % 5 == 0 && transcribe(server->port(), kCorruptWav).status == 400u) ++rejected;
    }
  };
  std::thread a(worker, 25), b(worker, 25);
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 50);
  EXPECT_EQ(rejected.load(), 10);
  EXPECT_EQ(entries_in(tmp.path()), tmp0) << "files left in TMPDIR";
  EXPECT_EQ(entries_in(server->cwd()), cwd0) << "files left in the working directory";
  EXPECT_LE(open_fds(server->pid()), fds0 + 2) << "file descriptors leak";
}

// "`/health` endpoint returns 200 OK", "`/ready` endpoint checks
// dependencies", "Health shows correct uptime", "models loaded status".
TEST_F(Acceptance, Phase1_HealthReturns200AndReadyChecksDependencies) {
  auto server = ServerProcess::serve();
  const HttpResponse health = http_get(server->port(), "/health");
  ASSERT_EQ(health.status, 200u);
  const auto h = health.json();
  EXPECT_EQ(h.value("status", ""), "ok");
  EXPECT_TRUE(h["uptime"].is_number() && h["uptime"].get<double>() >= 0) << health.body;
  for (const char* c : {"http", "asr", "mind", "store"})
    EXPECT_TRUE(h["components"].contains(c)) << c << " missing: " << health.body;
  const HttpResponse ready = http_get(server->port(), "/ready");
  ASSERT_EQ(ready.status, 200u) << ready.body;
  EXPECT_EQ(ready.json().value("status", ""), "ready");
  EXPECT_TRUE(ready.json()["notReady"].empty());
  std::this_thread::sleep_for(1100ms);
  EXPECT_GT(http_get(server->port(), "/health").json().value("uptime", 0.0),
            h.value("uptime", 0.0) + 1.0);
}

// ---------------------------------------------------------------- Phase 2

// "Invalid requests rejected with 400", "Missing fields detected",
// "Helpful error messages returned" (curl -X POST .../transcribe: no file).
TEST_F(Acceptance, Phase2_InvalidRequestsRejectedWith400) {
  auto server = ServerProcess::serve();
  EXPECT_TRUE(IsJsonError(http_post(server->port(), "/transcribe", "", form_headers()), 400,
                          "bad_request"));
  EXPECT_TRUE(IsJsonError(
      http_post(server->port(), "/transcribe", multipart("other_field", go_wav_), form_headers()),
      400, "bad_request"));
  EXPECT_TRUE(IsJsonError(
      http_post(server->port(), "/generate_thots", "{}", {{"Content-Type", "application/json"}}),
      400, "bad_request"));
  const HttpResponse bad_chunk = http_post(server->port(), "/conversation?chunk=zero",
                                           multipart("audio_data", go_wav_), form_headers());
  ASSERT_TRUE(IsJsonError(bad_chunk, 400, "bad_request"));
  EXPECT_NE(bad_chunk.json().value("message", "").find("chunk"), std::string::npos)
      << "the message should say what was wrong: " << bad_chunk.body;
}

// "Large files rejected with 413".
TEST_F(Acceptance, Phase2_LargeFilesRejectedWith413) {
  auto server = ServerProcess::serve(
      {"--set", "server.max_body_bytes=64KiB", "--set", "audio.max_duration_s=1"});
  EXPECT_TRUE(
      IsJsonError(transcribe(server->port(), std::string(100000, 'x')), 413, "payload_too_large"));
  // Under the byte limit but longer than audio.max_duration_s (2.8 s).
  EXPECT_TRUE(IsJsonError(transcribe(server->port(), go_wav_), 413, "payload_too_large"));
}

// "Wrong content type rejected with 415" (-F "audio_data=@test.txt").
TEST_F(Acceptance, Phase2_WrongContentTypeRejectedWith415) {
  auto server = ServerProcess::serve();
  EXPECT_TRUE(IsJsonError(transcribe(server->port(), "just some text, not audio\n", "text/plain"),
                          415, "unsupported_media_type"));
  // A JSON endpoint sent something other than JSON.
  EXPECT_TRUE(IsJsonError(
      http_post(server->port(), "/generate_thots", R"({"conversation_speech": ["person: hi"]})",
                {{"Content-Type", "text/plain"}}),
      415, "unsupported_media_type"));
}

// "Send 100 requests quickly ... Next request should be rate limited",
// "Returns 429 status code", "Includes Retry-After header", "Health checks
// not rate limited". Burst 40, as by default.
TEST_F(Acceptance, Phase2_BurstOf100RequestsGets429WithRetryAfter) {
  // The default burst (40) with a slow refill (one token per 10 s), so the
  // outcome does not depend on how fast this machine sends the burst (under
  // ASan on a loaded machine the default 20/s refilled before the last check).
  auto server = ServerProcess::serve({}, {{"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_RPS", "0.1"}});
  const std::string body = R"({"conversation_speech":["person: hello there"]})";
  std::atomic<int> ok{0}, limited{0}, other{0}, without_retry_after{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 10; ++c) {
    clients.emplace_back([&] {
      HttpConnection conn(server->port());
      for (int i = 0; i < 10; ++i) {
        const HttpResponse r = conn.roundtrip(
            make_request("POST", "/generate_thots", {{"Content-Type", "application/json"}}, body));
        if (r.status == 200u) {
          ++ok;
        } else if (r.status == 429u) {
          ++limited;
          if (r.header("Retry-After").empty()) ++without_retry_after;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_GE(ok.load(), 40) << "the burst allowance";
  EXPECT_GE(limited.load(), 30);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(without_retry_after.load(), 0);
  const HttpResponse next =
      http_post(server->port(), "/generate_thots", body, {{"Content-Type", "application/json"}});
  EXPECT_TRUE(IsJsonError(next, 429, "rate_limited"));
  EXPECT_GE(std::stoi(next.header("Retry-After").empty() ? "0" : next.header("Retry-After")), 1);
  EXPECT_EQ(http_get(server->port(), "/health").status, 200u);
  EXPECT_EQ(http_get(server->port(), "/ready").status, 200u);
}

// "Stop Whisper server; make request; check logs for retry attempts":
// "Network errors trigger retries", "Exponential backoff working", "Max
// retries respected", "Logs show retry attempts".
TEST_F(Acceptance, Phase2_RetriesWithBackoffVisibleInLogsWhileBackendDown) {
  const std::uint16_t dead = pick_free_port();  // nothing listens there
  auto server = ServerProcess::serve(
      {}, {{"SCRIBEPOD_ASR_ENGINE", "remote"},
           {"SCRIBEPOD_ASR_REMOTE_URL", "http://127.0.0.1:" + std::to_string(dead)},
           {"SCRIBEPOD_ASR_REMOTE_ATTEMPTS", "3"}});
  const auto t0 = Clock::now();
  const HttpResponse res = transcribe(server->port(), go_wav_);
  EXPECT_GE(res.status, 500u) << res.body;
  EXPECT_LT(seconds_since(t0), 5.0);
  ASSERT_TRUE(server->wait_for_log({"\"remote call failed\"", "\"attempts\":3"}, 3s))
      << server->stdout_text();
  const auto retries = log_records(*server, "retrying remote call");
  ASSERT_EQ(retries.size(), 2u) << server->stdout_text();
  EXPECT_EQ(retries[0].value("attempt", 0), 1);
  EXPECT_EQ(retries[1].value("attempt", 0), 2);
  // Exponential with 50 % jitter: [100, 200) ms, then [200, 400) ms.
  EXPECT_LT(retries[0].value("delay_ms", 0), retries[1].value("delay_ms", 0));
  for (const auto& r : retries) EXPECT_FALSE(r.value("reason", "").empty()) << r;
}

// "Non-retryable errors fail immediately": a 400 from the backend is not
// retried.
TEST_F(Acceptance, Phase2_NonRetryableErrorsFailImmediately) {
  FakeBackend asr(FakeBackend::Mode::kAnswer, 400, R"({"error":{"message":"bad file"}})");
  auto server = ServerProcess::serve(
      {}, {{"SCRIBEPOD_ASR_ENGINE", "remote"}, {"SCRIBEPOD_ASR_REMOTE_URL", asr.url()}});
  const HttpResponse res = transcribe(server->port(), go_wav_);
  EXPECT_GE(res.status, 400u) << res.body;
  EXPECT_EQ(asr.requests(), 1);
  EXPECT_TRUE(log_records(*server, "retrying remote call").empty());
}

// "Requests timeout after configured duration", "Backend logs timeout",
// "Resources cleaned up on timeout": a hung recogniser, a hung chat
// server and a client that never finishes its request are all cut off in
// bounded time, and the server keeps serving.
TEST_F(Acceptance, Phase2_TimeoutsBoundEveryRequest) {
  FakeBackend hung_asr(FakeBackend::Mode::kSilent), hung_llm(FakeBackend::Mode::kSilent);
  auto server = ServerProcess::serve({"--set", "server.read_timeout=1s"},
                                     {{"SCRIBEPOD_ASR_ENGINE", "remote"},
                                      {"SCRIBEPOD_ASR_REMOTE_URL", hung_asr.url()},
                                      {"SCRIBEPOD_ASR_REMOTE_TIMEOUT", "500ms"},
                                      {"SCRIBEPOD_ASR_REMOTE_ATTEMPTS", "2"},
                                      {"SCRIBEPOD_MIND_ENGINE", "openai"},
                                      {"SCRIBEPOD_MIND_PROMPTS_DIR", source_dir() + "/prompts"},
                                      {"SCRIBEPOD_LLM_REMOTE_URL", hung_llm.url()},
                                      {"SCRIBEPOD_LLM_REMOTE_TIMEOUT", "500ms"},
                                      {"SCRIBEPOD_LLM_REMOTE_ATTEMPTS", "1"}});
  auto t0 = Clock::now();
  const HttpResponse asr = transcribe(server->port(), go_wav_);
  EXPECT_TRUE(IsJsonError(asr, 504, "upstream_timeout")) << asr.body;
  EXPECT_LT(seconds_since(t0), 3.0) << "2 attempts of 500 ms plus one backoff";
  EXPECT_EQ(hung_asr.requests(), 2);

  t0 = Clock::now();
  const HttpResponse llm =
      http_post(server->port(), "/generate_thots", R"({"conversation_speech":["person: hi"]})",
                {{"Content-Type", "application/json"}});
  EXPECT_TRUE(IsJsonError(llm, 504, "upstream_timeout")) << llm.body;
  EXPECT_LT(seconds_since(t0), 3.0);

  HttpConnection slow(server->port());  // headers that never end
  ASSERT_TRUE(slow.send("POST /transcribe HTTP/1.1\r\nHost: x\r\n"));
  t0 = Clock::now();
  const ReadResult r = slow.try_read(5s);  // a 408, or a plain close mid-headers
  ASSERT_NE(r.outcome, ReadOutcome::kTimeout) << "a half-sent request held the connection";
  if (r.outcome == ReadOutcome::kResponse) {
    EXPECT_EQ(r.response.status, 408u);
  }
  EXPECT_LT(seconds_since(t0), 2.5);
  EXPECT_TRUE(server->wait_for_log({"\"remote call failed\"", "timeout"}, 1s))
      << server->stdout_text();
  EXPECT_EQ(http_get(server->port(), "/health").status, 200u);
}

// "Logs include context (sessionId, duration, etc.)", "All errors logged
// with context": every request leaves one JSON line with its request id,
// session id, route, status and duration; failures name their cause.
TEST_F(Acceptance, Phase2_LogsIncludeContext) {
  auto server = ServerProcess::serve();
  const HttpResponse first = http_post(server->port(), "/conversation?chunk=1",
                                       multipart("audio_data", go_wav_), form_headers());
  ASSERT_EQ(first.status, 200u);
  const std::string session = first.json().value("sessionId", "");
  Headers h = form_headers(session);
  h.emplace_back("X-Request-Id", "acceptance-ctx-1");
  ASSERT_EQ(
      http_post(server->port(), "/conversation?chunk=1", multipart("audio_data", digits_wav_), h)
          .status,
      200u);
  ASSERT_TRUE(server->wait_for_log({"acceptance-ctx-1"}, 2s));
  bool seen = false;
  for (const auto& j : log_records(*server, "request")) {
    if (j.value("request_id", "") != "acceptance-ctx-1") continue;
    seen = true;
    EXPECT_EQ(j.value("session_id", ""), session) << j;
    EXPECT_EQ(j.value("route", ""), "/conversation") << j;
    EXPECT_EQ(j.value("status", 0), 200) << j;
    EXPECT_TRUE(j.contains("duration_ms") && j["duration_ms"].is_number()) << j;
    EXPECT_TRUE(j.contains("time") && j.contains("level")) << j;
  }
  EXPECT_TRUE(seen);
  const HttpResponse bad =
      transcribe(server->port(), "text", "text/plain", {{"X-Request-Id", "acceptance-ctx-2"}});
  EXPECT_EQ(bad.status, 415u);
  EXPECT_TRUE(
      server->wait_for_log({"acceptance-ctx-2", "\"status\":415", "\"level\":\"warn\""}, 2s))
      << server->stdout_text();
}

// "Stack traces not exposed to users (production)", "Errors include retry
// guidance": in production no error body carries a stack trace, a source
// path, a C++ type or what a backend said about its own internals.
TEST_F(Acceptance, Phase2_NoStackTracesExposedInProduction) {
  FakeBackend broken(FakeBackend::Mode::kAnswer, 500,
                     "Traceback (most recent call last):\n  File \"/srv/whisper/app.py\", line "
                     "193, in transcribe\nRuntimeError: CUDA out of memory",
                     "text/plain");
  auto server = ServerProcess::serve({}, {{"NODE_ENV", "production"},
                                          {"SCRIBEPOD_ASR_ENGINE", "remote"},
                                          {"SCRIBEPOD_ASR_REMOTE_URL", broken.url()},
                                          {"SCRIBEPOD_ASR_REMOTE_ATTEMPTS", "1"}});
  std::vector<HttpResponse> errors = {
      transcribe(server->port(), go_wav_),  // the backend's 500
      transcribe(server->port(), kCorruptWav),
      http_post(server->port(), "/generate_thots", "{not json",
                {{"Content-Type", "application/json"}}),
      http_get(server->port(), "/no/such/route"),
      http_request(server->port(), "DELETE", "/health"),
  };
  const std::regex internals(
      R"re(Traceback|File "|\.py\b|\.cpp\b|\.h:\d|std::|what\(\)|terminate|#\d+ 0x|CUDA|/srv/|/src/|/work/|/home/)re");
  for (const HttpResponse& e : errors) {
    EXPECT_GE(e.status, 400u) << e.body;
    const auto j = e.json();
    ASSERT_TRUE(j.is_object()) << e.body;
    EXPECT_TRUE(j.contains("retryable") && j["retryable"].is_boolean()) << e.body;
    EXPECT_FALSE(std::regex_search(e.body, internals)) << "internals exposed: " << e.body;
  }
  EXPECT_EQ(errors[0].status, 502u) << errors[0].body;
  EXPECT_TRUE(server->wait_for_log({"\"remote backend error", "Traceback"}, 2s))
      << "the details belong in the log: " << server->stdout_text();
}

}  // namespace
}  // namespace scribepod::testing
