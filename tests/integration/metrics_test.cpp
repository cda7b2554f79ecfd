// GET /metrics against the real binary, checked three ways: by reading the
// exposition, by Debian's `promtool check metrics`, and by a real Prometheus
// (the `prometheus` package) started on loopback that scrapes the server
// every second and answers a query through its HTTP API. Also checks
// deploy/prometheus.yml with `promtool check config` and that the Grafana
// dashboard in deploy/grafana/ references only metric names the server
// exposes (and that each of its expressions is valid PromQL to Prometheus).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "http_client.h"
#include "server_process.h"

extern char** environ;

namespace scribepod::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPromtool = "/usr/bin/promtool";
constexpr const char* kPrometheus = "/usr/bin/prometheus";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string source_dir() {
  const char* d = std::getenv("SCRIBEPOD_SOURCE_DIR");
  return d != nullptr ? d : "";
}

// A child process (not scribepod) with stdout+stderr in a file; killed
// (TERM, then KILL) on destruction so no test leaves one behind.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const fs::path& output,
        const fs::path& stdin_path = "/dev/null") {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, stdin_path.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) pid_ = -1;
  }
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  // The exit code, or nullopt if still running at `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int st = 0;
      const pid_t r = waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
      }
      if (std::chrono::steady_clock::now() >= until) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  void stop() {
    if (pid_ <= 0 || status_) return;
    kill(pid_, SIGTERM);
    if (!wait(std::chrono::seconds(5))) {
      kill(pid_, SIGKILL);
      wait(std::chrono::seconds(5));
    }
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct ToolResult {
  int rc = -1;
  std::string output;
};

ToolResult run_tool(const std::vector<std::string>& argv, const fs::path& stdin_path,
                    const TempDir& dir) {
  const fs::path out = dir.path() / "tool_output.txt";
  Child child(argv, out, stdin_path);
  if (!child.started()) return {-1, "could not start " + argv[0]};
  const auto rc = child.wait(std::chrono::seconds(20));
  return {rc.value_or(-1), read_file(out)};
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

// Family names from the "# TYPE" lines, each with its type.
std::map<std::string, std::string> families_of(const std::string& exposition) {
  std::map<std::string, std::string> out;
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream words(line.substr(7));
    std::string name, type;
    words >> name >> type;
    out[name] = type;
  }
  return out;
}

// Every name a query may use: families, plus _bucket/_sum/_count of histograms.
std::set<std::string> queryable_names(const std::string& exposition) {
  std::set<std::string> out;
  for (const auto& [name, type] : families_of(exposition)) {
    out.insert(name);
    if (type == "histogram") {
      for (const char* s : {"_bucket", "_sum", "_count"}) out.insert(name + s);
    }
  }
  return out;
}

// The value of the first sample line starting with `series` followed by a space.
std::optional<double> sample(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

std::vector<std::string> dashboard_exprs() {
  const auto j = nlohmann::json::parse(
      read_file(fs::path(source_dir()) / "deploy/grafana/scribepod-dashboard.json"));
  std::vector<std::string> out;
  for (const auto& panel : j.at("panels")) {
    for (const auto& target : panel.value("targets", nlohmann::json::array())) {
      out.push_back(target.at("expr").get<std::string>());
    }
  }
  return out;
}

// Grafana's variables replaced by what Prometheus itself understands.
std::string as_promql(std::string expr) {
  expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "1m");
  return std::regex_replace(expr, std::regex(R"(\$job)"), "scribepod");
}

// goforward.raw ("go forward ten meters", 16 kHz s16le mono) as a WAV file.
std::string speech_wav() {
  const std::string pcm = read_file("/usr/share/pocketsphinx/test/data/goforward.raw");
  if (pcm.empty()) return {};
  return wav_from_pcm16(pcm);
}

constexpr const char* kBoundary = "----scribepod-metrics-boundary";

std::string audio_form(const std::string& wav) {
  return std::string("--") + kBoundary +
         "\r\nContent-Disposition: form-data; name=\"audio_data\"; filename=\"go.wav\"\r\n"
         "Content-Type: audio/wav\r\n\r\n" +
         wav + "\r\n--" + kBoundary + "--\r\n";
}

const Headers kFormHeaders = {
    {"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary}};

class MetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = try_serve({}, {}, error_); }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_NE(server_, nullptr) << error_; }
  static std::uint16_t port() { return server_->port(); }
  static std::string scrape() {
    const HttpResponse res = http_get(port(), "/metrics");
    EXPECT_EQ(res.status, 200u) << res.head_text();
    return res.body;
  }

  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string error_;
};

TEST_F(MetricsTest, CountsRequestsByRoutePatternNeverByRawPath) {
  ASSERT_EQ(http_get(port(), "/health").status, 200u);
  ASSERT_EQ(http_get(port(), "/no/such/path-7f3a").status, 404u);
  // A wrong method matches no route either (the router sets no pattern).
  ASSERT_EQ(http_post(port(), "/health", "{}").status, 405u);
  const HttpResponse res = http_get(port(), "/metrics");
  ASSERT_EQ(res.status, 200u) << res.head_text();
  EXPECT_EQ(res.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res.header("Cache-Control"), "no-store");
  const std::string& m = res.body;
  EXPECT_GE(sample(m, R"(scribepod_http_requests_total{route="/health",method="GET",status="200"})")
                .value_or(0),
            1.0)
      << m;
  EXPECT_GE(
      sample(m, R"(scribepod_http_requests_total{route="unmatched",method="GET",status="404"})")
          .value_or(0),
      1.0)
      << m;
  EXPECT_GE(
      sample(m, R"(scribepod_http_requests_total{route="unmatched",method="POST",status="405"})")
          .value_or(0),
      1.0)
      << m;
  EXPECT_EQ(m.find("path-7f3a"), std::string::npos) << "a raw path became a label";
  EXPECT_GE(sample(m, R"(scribepod_errors_total{kind="not_found"})").value_or(0), 1.0) << m;
  EXPECT_GE(sample(m, R"(scribepod_errors_total{kind="method_not_allowed"})").value_or(0), 1.0);
  EXPECT_GE(
      sample(m, R"(scribepod_http_request_duration_seconds_count{route="/health"})").value_or(0),
      1.0);
  EXPECT_NE(m.find("scribepod_build_info{version=\""), std::string::npos);
  EXPECT_GT(sample(m, "process_resident_memory_bytes").value_or(0), 1e6) << m;
  EXPECT_TRUE(sample(m, "process_cpu_seconds_total").has_value()) << m;
  EXPECT_TRUE(sample(m, "scribepod_active_sessions").has_value()) << m;
}

TEST_F(MetricsTest, PromtoolAcceptsTheExposition) {
  if (!fs::exists(kPromtool)) GTEST_SKIP() << kPromtool << " missing: apt-get install prometheus";
  http_get(port(), "/ready");
  http_get(port(), "/nope");
  TempDir dir;
  const fs::path file = dir.write("metrics.txt", scrape());
  const ToolResult r = run_tool({kPromtool, "check", "metrics"}, file, dir);
  EXPECT_EQ(r.rc, 0) << r.output << "\n" << read_file(file);
  EXPECT_EQ(r.output, "") << "promtool lint findings:\n" << r.output;
}

TEST_F(MetricsTest, DeployConfigPassesPromtool) {
  if (!fs::exists(kPromtool)) GTEST_SKIP() << kPromtool << " missing: apt-get install prometheus";
  TempDir dir;
  const ToolResult r = run_tool(
      {kPromtool, "check", "config", source_dir() + "/deploy/prometheus.yml"}, "/dev/null", dir);
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("SUCCESS"), std::string::npos) << r.output;
}

TEST_F(MetricsTest, DashboardUsesOnlyExposedMetricNames) {
  const std::set<std::string> exposed = queryable_names(scrape());
  const auto exprs = dashboard_exprs();
  ASSERT_GE(exprs.size(), 10u);
  const std::regex metric(R"((scribepod|process)_[a-zA-Z0-9_:]*)");
  std::set<std::string> used;
  for (const auto& e : exprs) {
    for (auto it = std::sregex_iterator(e.begin(), e.end(), metric); it != std::sregex_iterator();
         ++it) {
      used.insert(it->str());
      EXPECT_TRUE(exposed.count(it->str()) == 1) << it->str() << " in: " << e;
    }
  }
  // Every scribepod family appears on the dashboard.
  for (const auto& [name, type] : families_of(scrape())) {
    const bool shown = used.count(name) + used.count(name + "_bucket") + used.count(name + "_sum") +
                           used.count(name + "_count") >
                       0;
    EXPECT_TRUE(shown) << name << " is exposed but not on the dashboard";
  }
}

TEST_F(MetricsTest, MetricsIsPublicAndNeverRateLimited) {
  auto server = ServerProcess::serve({}, {{"API_KEY", "metrics-test-key-0123456789"},
                                          {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_RPS", "0.5"},
                                          {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_BURST", "2"}});
  const Headers key = {{"X-API-Key", "metrics-test-key-0123456789"}};
  for (int i = 0; i < 4; ++i) http_get(server->port(), "/v1/nonexistent", key);  // 404s, then 429s
  HttpResponse res;
  for (int i = 0; i < 5; ++i) {
    res = http_get(server->port(), "/metrics");  // no key: /metrics is public
    ASSERT_EQ(res.status, 200u) << "scrape " << i << "\n" << res.head_text() << res.body;
  }
  EXPECT_GE(
      sample(res.body, R"(scribepod_rate_limit_rejections_total{scope="client"})").value_or(0), 1.0)
      << res.body;
  EXPECT_GE(sample(res.body, R"(scribepod_errors_total{kind="rate_limited"})").value_or(0), 1.0);
  EXPECT_GE(sample(res.body,
                   R"(scribepod_http_requests_total{route="unmatched",method="GET",status="429"})")
                .value_or(0),
            1.0)
      << res.body;
}

TEST_F(MetricsTest, RecognitionAndThoughtsAreTimedPerEngine) {
  const std::string wav = speech_wav();
  ASSERT_FALSE(wav.empty()) << "goforward.raw is missing (pocketsphinx-en-us test data)";
  const HttpResponse res =
      http_post(port(), "/conversation?chunk=1", audio_form(wav), kFormHeaders);
  ASSERT_EQ(res.status, 200u) << res.head_text() << res.body;
  const std::string m = scrape();
  EXPECT_GE(sample(m, R"(scribepod_asr_duration_seconds_count{engine="pocketsphinx"})").value_or(0),
            1.0)
      << m;
  // goforward.raw is 2.3 s of audio; PocketSphinx runs at RTF ~0.2, far below 60.
  EXPECT_GE(sample(m, R"(scribepod_asr_realtime_factor_count{engine="pocketsphinx"})").value_or(0),
            1.0);
  EXPECT_LT(sample(m, R"(scribepod_asr_realtime_factor_sum{engine="pocketsphinx"})").value_or(99),
            60.0);
  EXPECT_GE(
      sample(m, R"(scribepod_thoughts_duration_seconds_count{engine="heuristic"})").value_or(0),
      1.0)
      << m;
  EXPECT_GE(sample(m, "scribepod_active_sessions").value_or(0), 1.0) << m;
  EXPECT_GE(
      sample(m,
             R"(scribepod_http_requests_total{route="/conversation",method="POST",status="200"})")
          .value_or(0),
      1.0)
      << m;
}

// A remote recogniser whose server is down: each request is retried, the
// retries are counted per backend, and the breaker's state gauge goes from 0
// (closed) to 2 (open) once enough attempts failed.
TEST(MetricsRemoteTest, RetriesAndBreakerStatePerBackend) {
  const std::string wav = speech_wav();
  ASSERT_FALSE(wav.empty()) << "goforward.raw is missing (pocketsphinx-en-us test data)";
  const std::uint16_t dead = pick_free_port();  // nothing listens there
  auto server = ServerProcess::serve(
      {}, {{"SCRIBEPOD_ASR_ENGINE", "remote"},
           {"SCRIBEPOD_ASR_REMOTE_URL", "http://127.0.0.1:" + std::to_string(dead)},
           {"SCRIBEPOD_ASR_REMOTE_ATTEMPTS", "3"}});
  const std::string before = http_get(server->port(), "/metrics").body;
  EXPECT_EQ(sample(before, R"(scribepod_circuit_breaker_state{backend="remote-asr"})"), 0.0)
      << before;
  // 3 attempts per request and a breaker that opens after 5 failures: two
  // requests open it.
  for (int i = 0; i < 2; ++i) {
    const HttpResponse res =
        http_post(server->port(), "/transcribe", audio_form(wav), kFormHeaders);
    EXPECT_GE(res.status, 500u) << res.head_text() << res.body;
  }
  const std::string after = http_get(server->port(), "/metrics").body;
  EXPECT_GE(sample(after, R"(scribepod_remote_retries_total{backend="remote-asr"})").value_or(0),
            4.0)
      << after;
  EXPECT_EQ(sample(after, R"(scribepod_circuit_breaker_state{backend="remote-asr"})"), 2.0)
      << after;
  EXPECT_GE(sample(after, R"(scribepod_errors_total{kind="upstream_failed"})").value_or(0) +
                sample(after, R"(scribepod_errors_total{kind="unavailable"})").value_or(0),
            2.0)
      << after;
}

TEST_F(MetricsTest, RealPrometheusScrapesAndAnswersAQuery) {
  if (!fs::exists(kPrometheus)) {
    GTEST_SKIP() << kPrometheus << " missing: apt-get install prometheus";
  }
  ASSERT_EQ(http_get(port(), "/health").status, 200u);
  TempDir dir;
  const std::uint16_t prom_port = pick_free_port();
  const fs::path config = dir.write("prometheus.yml",
                                    "global:\n"
                                    "  scrape_interval: 1s\n"
                                    "  scrape_timeout: 1s\n"
                                    "scrape_configs:\n"
                                    "  - job_name: scribepod\n"
                                    "    static_configs:\n"
                                    "      - targets: ['127.0.0.1:" +
                                        std::to_string(port()) + "']\n");
  fs::create_directories(dir.path() / "tsdb");
  const fs::path log = dir.path() / "prometheus.log";
  Child prometheus(
      {kPrometheus, "--config.file=" + config.string(),
       "--storage.tsdb.path=" + (dir.path() / "tsdb").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
      log);
  ASSERT_TRUE(prometheus.started());

  // Bounded: the whole wait is under 25 s, and the Child is stopped on
  // every path out of this test.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
  nlohmann::json answer;
  double value = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ASSERT_FALSE(prometheus.wait(std::chrono::milliseconds(0))) << "prometheus exited:\n"
                                                                << read_file(log);
    if (HttpConnection::try_connect(prom_port) != 0) continue;
    const HttpResponse res =
        http_get(prom_port,
                 "/api/v1/query?query=" +
                     url_encode(R"(scribepod_http_requests_total{route="/health",status="200"})"));
    if (res.status != 200) continue;
    answer = res.json();
    if (answer.value("status", "") != "success") continue;
    const auto& result = answer["data"]["result"];
    if (result.empty()) continue;
    value = std::stod(result[0]["value"][1].get<std::string>());
    break;
  }
  ASSERT_GE(value, 1.0) << "no sample came back; last answer: " << answer.dump() << "\nlog:\n"
                        << read_file(log);
  EXPECT_EQ(answer["data"]["result"][0]["metric"].value("job", ""), "scribepod") << answer.dump();

  // The target is healthy (Prometheus parsed the whole exposition).
  const HttpResponse up = http_get(prom_port, "/api/v1/query?query=up");
  EXPECT_EQ(up.json()["data"]["result"][0]["value"][1], "1") << up.body;

  // Every dashboard expression is valid PromQL to the real Prometheus.
  for (const auto& expr : dashboard_exprs()) {
    const HttpResponse res =
        http_get(prom_port, "/api/v1/query?query=" + url_encode(as_promql(expr)));
    EXPECT_EQ(res.json().value("status", ""), "success") << expr << "\n" << res.body;
  }
  prometheus.stop();
}

}  // namespace
}  // namespace scribepod::testing
