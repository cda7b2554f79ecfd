// The metrics registry (telemetry/metrics.h) and Scribepod's families
// (telemetry/service_metrics.h): exposition text, escaping, buckets,
// callbacks, registration rules and concurrent updates.
#include "telemetry/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "telemetry/service_metrics.h"

namespace scribepod::metrics {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The value of the series whose line starts with `series + " "`; NaN when absent.
double value_of(const std::string& text, const std::string& series) {
  for (const auto& line : lines_of(text)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::numeric_limits<double>::quiet_NaN();
}

TEST(MetricsTest, CounterAndGaugeRenderWithHelpAndType) {
  Registry r;
  auto& c = r.counter("demo_requests_total", "Requests seen.", {"code"});
  c.with({"200"}).inc();
  c.with({"200"}).inc(2);
  c.with({"500"}).inc();
  c.with({"500"}).inc(-5);  // ignored: counters only go up
  auto& g = r.gauge("demo_temperature", "A gauge.");
  g.with().set(3.5);
  g.with().dec(1);
  EXPECT_EQ(r.render(),
            "# HELP demo_requests_total Requests seen.\n"
            "# TYPE demo_requests_total counter\n"
            "demo_requests_total{code=\"200\"} 3\n"
            "demo_requests_total{code=\"500\"} 1\n"
            "# HELP demo_temperature A gauge.\n"
            "# TYPE demo_temperature gauge\n"
            "demo_temperature 2.5\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.counter("esc_total", "Back\\slash and\nnewline.", {"v"})
      .with({"a\"quote\" b\\slash\nline"})
      .inc();
  const std::string text = r.render();
  EXPECT_NE(text.find("# HELP esc_total Back\\\\slash and\\nnewline.\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("esc_total{v=\"a\\\"quote\\\" b\\\\slash\\nline\"} 1\n"), std::string::npos)
      << text;
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_help("say \"hi\""), "say \"hi\"");  // quotes stay in HELP
}

TEST(MetricsTest, EmptyAndUnusualLabelValuesStayDistinct) {
  Registry r;
  auto& f = r.counter("pairs_total", "Pairs.", {"a", "b"});
  f.with({"", "x"}).inc();
  f.with({"x", ""}).inc(2);
  EXPECT_NE(&f.with({"", "x"}), &f.with({"x", ""}));
  const std::string text = r.render();
  EXPECT_EQ(value_of(text, "pairs_total{a=\"\",b=\"x\"}"), 1.0) << text;
  EXPECT_EQ(value_of(text, "pairs_total{a=\"x\",b=\"\"}"), 2.0) << text;
}

TEST(MetricsTest, HistogramBucketsAreCumulativeInclusiveWithInfSumAndCount) {
  Registry r;
  auto& h = r.histogram("lat_seconds", "Latency.", {"route"}, {0.1, 0.5, 1});
  auto& a = h.with({"/a"});
  for (double v : {0.05, 0.1, 0.3, 0.5, 0.7, 2.0, 100.0}) a.observe(v);
  const std::string text = r.render();
  EXPECT_NE(text.find("# TYPE lat_seconds histogram\n"), std::string::npos);
  EXPECT_EQ(value_of(text, "lat_seconds_bucket{route=\"/a\",le=\"0.1\"}"), 2.0) << text;
  EXPECT_EQ(value_of(text, "lat_seconds_bucket{route=\"/a\",le=\"0.5\"}"), 4.0) << text;
  EXPECT_EQ(value_of(text, "lat_seconds_bucket{route=\"/a\",le=\"1\"}"), 5.0) << text;
  EXPECT_EQ(value_of(text, "lat_seconds_bucket{route=\"/a\",le=\"+Inf\"}"), 7.0) << text;
  EXPECT_EQ(value_of(text, "lat_seconds_count{route=\"/a\"}"), 7.0) << text;
  EXPECT_NEAR(value_of(text, "lat_seconds_sum{route=\"/a\"}"), 103.65, 1e-9) << text;
  // The bucket lines come in bound order, then _sum and _count.
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 2u + 4u + 2u);
  EXPECT_EQ(lines[5].rfind("lat_seconds_bucket{route=\"/a\",le=\"+Inf\"}", 0), 0u);
  EXPECT_EQ(lines[6].rfind("lat_seconds_sum", 0), 0u);
  EXPECT_EQ(lines[7].rfind("lat_seconds_count", 0), 0u);
}

TEST(MetricsTest, HistogramWithoutLabels) {
  Registry r;
  r.histogram("plain_seconds", "Plain.", {}, exponential_buckets(0.25, 2, 3)).with().observe(0.6);
  const std::string text = r.render();
  EXPECT_EQ(value_of(text, "plain_seconds_bucket{le=\"0.25\"}"), 0.0) << text;
  EXPECT_EQ(value_of(text, "plain_seconds_bucket{le=\"1\"}"), 1.0) << text;
  EXPECT_EQ(value_of(text, "plain_seconds_count"), 1.0) << text;
}

TEST(MetricsTest, ValuesAreFormattedForPrometheus) {
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(0.5), "0.5");
  EXPECT_EQ(format_value(1e21), "1e+21");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(MetricsTest, RegistrationRules) {
  Registry r;
  auto& a = r.counter("same_total", "x", {"l"});
  EXPECT_EQ(&a, &r.counter("same_total", "other help is fine", {"l"}));
  EXPECT_THROW(r.gauge("same_total", "x", {"l"}), std::logic_error);
  EXPECT_THROW(r.counter("same_total", "x", {"other"}), std::logic_error);
  EXPECT_THROW(a.with({}), std::logic_error);
  EXPECT_THROW(a.with({"1", "2"}), std::logic_error);
  EXPECT_THROW(r.counter("bad-name", "x"), std::logic_error);
  EXPECT_THROW(r.counter("9starts_with_digit", "x"), std::logic_error);
  EXPECT_THROW(r.counter("ok_total", "x", {"bad:label"}), std::logic_error);
  EXPECT_THROW(r.counter("ok_total", "x", {"__reserved"}), std::logic_error);
  EXPECT_THROW(r.histogram("h", "x", {"le"}, {1}), std::logic_error);
  EXPECT_THROW(r.histogram("h", "x", {}, {}), std::logic_error);
  EXPECT_THROW(r.histogram("h", "x", {}, {1, 1}), std::logic_error);
  EXPECT_THROW(r.histogram("h", "x", {}, {2, 1}), std::logic_error);
  auto& h = r.histogram("h", "x", {}, {1, 2});
  EXPECT_EQ(&h, &r.histogram("h", "x", {}, {1, 2}));
  EXPECT_THROW(r.histogram("h", "x", {}, {1, 3}), std::logic_error);
  r.counter("ns:name_total", "colons are allowed in names");
}

TEST(MetricsTest, CallbacksAreReadAtScrapeShadowChildrenAndUnbind) {
  Registry r;
  auto& g = r.gauge("queue", "Depth.", {"stage"});
  g.with({"asr"}).set(1);
  g.with({"mind"}).set(7);
  double depth = 4;
  {
    CallbackHandle h = g.bind({"asr"}, [&] { return depth; });
    EXPECT_EQ(value_of(r.render(), "queue{stage=\"asr\"}"), 4.0);
    depth = 9;
    EXPECT_EQ(value_of(r.render(), "queue{stage=\"asr\"}"), 9.0);
    {
      CallbackHandle newer = g.bind({"asr"}, [] { return 100.0; });
      EXPECT_EQ(value_of(r.render(), "queue{stage=\"asr\"}"), 100.0);
    }
    EXPECT_EQ(value_of(r.render(), "queue{stage=\"asr\"}"), 9.0);
    CallbackHandle only = g.bind({"vad"}, [] { return 2.0; });
    const std::string text = r.render();
    // One line per label set: the callback replaces the child, never duplicates it.
    EXPECT_EQ(lines_of(text).size(), 2u + 3u) << text;
    EXPECT_EQ(value_of(text, "queue{stage=\"vad\"}"), 2.0) << text;
    CallbackHandle moved = std::move(only);
    EXPECT_EQ(value_of(r.render(), "queue{stage=\"vad\"}"), 2.0);
  }
  const std::string text = r.render();
  EXPECT_EQ(value_of(text, "queue{stage=\"asr\"}"), 1.0) << text;  // the child again
  EXPECT_TRUE(std::isnan(value_of(text, "queue{stage=\"vad\"}"))) << text;
}

TEST(MetricsTest, ConcurrentUpdatesFromEightThreadsAreNotLost) {
  Registry r;
  auto& c = r.counter("conc_total", "x", {"t"});
  auto& shared = c.with({"shared"});
  auto& h = r.histogram("conc_seconds", "x", {"t"}, {0.5, 1.5});
  auto& g = r.gauge("conc_gauge", "x");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::atomic<bool> stop{false};
  // A scraper renders the whole time, as Prometheus would.
  std::thread scraper([&] {
    while (!stop.load()) (void)r.render();
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = c.with({"t" + std::to_string(t % 4)});
      for (int i = 0; i < kPerThread; ++i) {
        shared.inc();
        mine.inc();
        c.with({"looked_up"}).inc();  // the slow path: resolve each time
        h.with({"x"}).observe(i % 2 == 0 ? 0.25 : 1.0);
        g.with().inc();
        g.with().dec();
      }
    });
  }
  for (auto& th : threads) th.join();
  stop = true;
  scraper.join();
  const std::string text = r.render();
  const double total = kThreads * kPerThread;
  EXPECT_EQ(value_of(text, "conc_total{t=\"shared\"}"), total);
  EXPECT_EQ(value_of(text, "conc_total{t=\"looked_up\"}"), total);
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(value_of(text, "conc_total{t=\"t" + std::to_string(t) + "\"}"), 2.0 * kPerThread);
  }
  EXPECT_EQ(value_of(text, "conc_seconds_count{t=\"x\"}"), total);
  EXPECT_EQ(value_of(text, "conc_seconds_bucket{t=\"x\",le=\"0.5\"}"), total / 2);
  EXPECT_EQ(value_of(text, "conc_seconds_sum{t=\"x\"}"), total / 2 * 1.25);
  EXPECT_EQ(value_of(text, "conc_gauge"), 0.0);
}

TEST(MetricsTest, EveryLineIsValidExposition) {
  Registry r;
  ServiceMetrics m(r);
  m.http_requests.with({"/v1/sessions/{id}", "GET", "200"}).inc();
  m.http_duration.with({"/v1/sessions/{id}"}).observe(0.02);
  m.queue_depth.with({"asr"}).set(3);
  m.llm_tokens.with({"llama", "completion"}).inc(12);
  const std::string text = r.render();
  const std::regex help(R"(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*)");
  const std::regex type(R"(# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram))");
  const std::regex sample(
      R"([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? )"
      R"(([-+]?[0-9.eE+-]+|\+Inf|-Inf|NaN))");
  for (const auto& line : lines_of(text)) {
    EXPECT_TRUE(std::regex_match(line, help) || std::regex_match(line, type) ||
                std::regex_match(line, sample))
        << line;
  }
}

TEST(MetricsTest, ServiceFamiliesHaveTheDocumentedNames) {
  Registry r;
  ServiceMetrics m(r);
  const auto names = r.family_names();
  for (const char* name :
       {"scribepod_http_requests_total", "scribepod_http_request_duration_seconds",
        "scribepod_active_sessions", "scribepod_active_streams", "scribepod_queue_depth",
        "scribepod_asr_duration_seconds", "scribepod_asr_realtime_factor",
        "scribepod_thoughts_duration_seconds", "scribepod_llm_tokens_per_second",
        "scribepod_llm_tokens_total", "scribepod_rate_limit_rejections_total",
        "scribepod_remote_retries_total", "scribepod_circuit_breaker_state",
        "scribepod_errors_total", "scribepod_build_info", "scribepod_stream_final_latency_seconds",
        "scribepod_stream_partials_dropped_total"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  const std::string text = r.render();
  EXPECT_NE(text.find("scribepod_build_info{version=\""), std::string::npos) << text;
  EXPECT_EQ(value_of(text, "scribepod_errors_total{kind=\"rate_limited\"}"), 0.0) << text;
  EXPECT_EQ(value_of(text, "scribepod_rate_limit_rejections_total{scope=\"client\"}"), 0.0);
}

TEST(MetricsTest, HelpersFeedTheProcessRegistry) {
  const ServiceMetrics& m = service();
  const double errors_before = m.errors.with({"rate_limited"}).value();
  count_error(ErrorCode::kRateLimited);
  EXPECT_EQ(m.errors.with({"rate_limited"}).value(), errors_before + 1);

  const double rejections_before = m.rate_limit_rejections.with({"session"}).value();
  count_rate_limit_rejection("session");
  EXPECT_EQ(m.rate_limit_rejections.with({"session"}).value(), rejections_before + 1);

  count_remote_retry("helper-test-backend");
  EXPECT_EQ(m.remote_retries.with({"helper-test-backend"}).value(), 1.0);
  set_breaker_state("helper-test-backend", "half_open");
  EXPECT_EQ(m.circuit_breaker_state.with({"helper-test-backend"}).value(), 1.0);
  set_breaker_state("helper-test-backend", "open");
  EXPECT_EQ(m.circuit_breaker_state.with({"helper-test-backend"}).value(), 2.0);

  observe_recognition("helper-asr", 10.0, 2.0);
  observe_generation("helper-llm", 30, 20, 2.0);
  observe_thoughts("helper-mind", 0.002);
  const std::string text = registry().render();
  EXPECT_EQ(
      value_of(text, "scribepod_asr_realtime_factor_bucket{engine=\"helper-asr\",le=\"0.2\"}"), 1.0)
      << text;
  EXPECT_EQ(value_of(text, "scribepod_asr_duration_seconds_sum{engine=\"helper-asr\"}"), 2.0);
  EXPECT_EQ(value_of(text, "scribepod_llm_tokens_total{engine=\"helper-llm\",kind=\"prompt\"}"),
            30.0);
  EXPECT_EQ(value_of(text, "scribepod_llm_tokens_total{engine=\"helper-llm\",kind=\"completion\"}"),
            20.0);
  EXPECT_EQ(value_of(text, "scribepod_llm_tokens_per_second_sum{engine=\"helper-llm\"}"), 10.0);
  EXPECT_EQ(value_of(text, "scribepod_thoughts_duration_seconds_count{engine=\"helper-mind\"}"),
            1.0);
  // Process figures are read from /proc at scrape time.
  EXPECT_GT(value_of(text, "process_resident_memory_bytes"), 1e6) << text;
  EXPECT_GE(value_of(text, "process_cpu_seconds_total"), 0.0) << text;
}

TEST(MetricsTest, ProcessCpuSecondsGrowWithWork) {
  // Busy until the kernel has charged at least one more clock tick (bounded,
  // in case the machine is starved).
  const double before = process_cpu_seconds();
  volatile double x = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (process_cpu_seconds() <= before && std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 100000; ++i) x = x + std::sqrt(x + 1.0);
  }
  EXPECT_GT(process_cpu_seconds(), before);
  EXPECT_GT(process_resident_memory_bytes(), 0.0);
}

}  // namespace
}  // namespace scribepod::metrics
