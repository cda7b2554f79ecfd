#include "telemetry/service_metrics.h"

#include <unistd.h>

#include <array>
#include <fstream>
#include <sstream>
#include <string>

#include "core/version.h"

namespace scribepod::metrics {
namespace {

// Request latency: from a cached /health (sub-millisecond) to a long upload
// that is transcribed in the request (tens of seconds).
const std::vector<double> kHttpBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                          0.5,   1,     2.5,  5,     10,   30,  60};
const std::vector<double> kAsrBuckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
// Real-time factor: below 1 keeps up with speech.
const std::vector<double> kRtfBuckets = {0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5};
// The heuristic answers in microseconds, a CPU language model in seconds.
const std::vector<double> kThoughtsBuckets = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25,
                                              0.5,    1,     2.5,   5,    10,   30,  60};
const std::vector<double> kTokensPerSecondBuckets = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
const std::vector<double> kFinalLatencyBuckets = {0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10};

constexpr std::size_t kErrorCodes = static_cast<std::size_t>(ErrorCode::kInternal) + 1;

// Fields of /proc/self/stat after the command name (which may hold spaces
// and parentheses, hence the search for the last ')').
std::vector<std::string> proc_stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  const auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;  // fields[0] is field 3 (state)
}

double field_as_double(const std::vector<std::string>& fields, std::size_t proc_field) {
  const std::size_t i = proc_field - 3;
  if (i >= fields.size()) return 0;
  try {
    return std::stod(fields[i]);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

double process_resident_memory_bytes() {
  // Field 24 is rss in pages.
  const double pages = field_as_double(proc_stat_fields(), 24);
  return pages * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double process_cpu_seconds() {
  // Fields 14 and 15: user and system time in clock ticks.
  const auto fields = proc_stat_fields();
  const double ticks = field_as_double(fields, 14) + field_as_double(fields, 15);
  const long hz = sysconf(_SC_CLK_TCK);
  return hz > 0 ? ticks / static_cast<double>(hz) : 0;
}

ServiceMetrics::ServiceMetrics(Registry& r)
    : http_requests(r.counter("scribepod_http_requests_total",
                              "HTTP requests answered, by route pattern, method and status.",
                              {"route", "method", "status"})),
      http_duration(r.histogram("scribepod_http_request_duration_seconds",
                                "Time from reading a request to its response, by route pattern.",
                                {"route"}, kHttpBuckets)),
      active_sessions(r.gauge("scribepod_active_sessions", "Conversation sessions alive now.")),
      active_streams(r.gauge("scribepod_active_streams", "Live audio streams open now.")),
      queue_depth(r.gauge("scribepod_queue_depth", "Items waiting in a pipeline stage's queue.",
                          {"stage"})),
      asr_duration(r.histogram("scribepod_asr_duration_seconds",
                               "Wall time of one batch recognition (voice gate included).",
                               {"engine"}, kAsrBuckets)),
      asr_rtf(r.histogram("scribepod_asr_realtime_factor",
                          "Recognition wall time divided by audio duration (below 1 keeps up).",
                          {"engine"}, kRtfBuckets)),
      thoughts_duration(r.histogram("scribepod_thoughts_duration_seconds",
                                    "Wall time of one thoughts call, by engine.", {"engine"},
                                    kThoughtsBuckets)),
      llm_tokens_per_second(r.histogram(
          "scribepod_llm_tokens_per_second",
          "Completion tokens per wall second of one generation (prompt evaluation included).",
          {"engine"}, kTokensPerSecondBuckets)),
      llm_tokens(r.counter("scribepod_llm_tokens_total",
                           "Language model tokens, by engine and kind (prompt or completion).",
                           {"engine", "kind"})),
      rate_limit_rejections(r.counter("scribepod_rate_limit_rejections_total",
                                      "Requests refused with 429 by a token bucket, by scope.",
                                      {"scope"})),
      remote_retries(r.counter("scribepod_remote_retries_total",
                               "Retried calls to a remote backend, by backend.", {"backend"})),
      circuit_breaker_state(r.gauge("scribepod_circuit_breaker_state",
                                    "Circuit breaker state per backend: 0 closed, 1 half-open, "
                                    "2 open.",
                                    {"backend"})),
      errors(r.counter("scribepod_errors_total",
                       "Error responses, by error kind (the JSON body's error field).", {"kind"})),
      build_info(r.gauge("scribepod_build_info", "Always 1; labels name the running build.",
                         {"version", "commit"})),
      stream_final_latency(r.histogram("scribepod_stream_final_latency_seconds",
                                       "Live mode: end of an utterance to its final transcript.",
                                       {}, kFinalLatencyBuckets)),
      stream_partials_dropped(r.counter("scribepod_stream_partials_dropped_total",
                                        "Live mode: partial transcripts dropped for slow "
                                        "clients.")) {
  build_info.with({kVersion, kGitCommit}).set(1);
  // Series that exist from the start read 0 instead of being absent, so
  // rate() and alerts work before the first event.
  active_sessions.with();
  active_streams.with();
  stream_partials_dropped.with();
  for (const char* scope : {"client", "session"}) rate_limit_rejections.with({scope});
  for (std::size_t i = 0; i < kErrorCodes; ++i) {
    errors.with({error_code_name(static_cast<ErrorCode>(i))});
  }
}

const ServiceMetrics& service() {
  static ServiceMetrics metrics(registry());
  static const std::array<CallbackHandle, 2> process = [] {
    Registry& r = registry();
    return std::array<CallbackHandle, 2>{
        r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
            .bind({}, [] { return process_resident_memory_bytes(); }),
        r.counter("process_cpu_seconds_total", "Total user and system CPU time in seconds.")
            .bind({}, [] { return process_cpu_seconds(); }),
    };
  }();
  return metrics;
}

void count_error(ErrorCode code) {
  static const std::array<Counter*, kErrorCodes> handles = [] {
    std::array<Counter*, kErrorCodes> out{};
    for (std::size_t i = 0; i < kErrorCodes; ++i) {
      out[i] = &service().errors.with({error_code_name(static_cast<ErrorCode>(i))});
    }
    return out;
  }();
  const auto i = static_cast<std::size_t>(code);
  if (i < kErrorCodes) handles[i]->inc();
}

void count_rate_limit_rejection(std::string_view scope) {
  static Counter& client = service().rate_limit_rejections.with({"client"});
  static Counter& session = service().rate_limit_rejections.with({"session"});
  if (scope == "client") {
    client.inc();
  } else if (scope == "session") {
    session.inc();
  } else {
    service().rate_limit_rejections.with({scope}).inc();
  }
}

void count_remote_retry(std::string_view backend) {
  service().remote_retries.with({backend}).inc();
}

double breaker_state_value(std::string_view state) {
  if (state == "open") return 2;
  if (state == "half_open") return 1;
  return 0;
}

void set_breaker_state(std::string_view backend, std::string_view state) {
  service().circuit_breaker_state.with({backend}).set(breaker_state_value(state));
}

void observe_recognition(std::string_view engine, double audio_s, double seconds) {
  const ServiceMetrics& m = service();
  m.asr_duration.with({engine}).observe(seconds);
  if (audio_s > 0) m.asr_rtf.with({engine}).observe(seconds / audio_s);
}

void observe_thoughts(std::string_view engine, double seconds) {
  service().thoughts_duration.with({engine}).observe(seconds);
}

void observe_generation(std::string_view engine, int prompt_tokens, int completion_tokens,
                        double seconds) {
  const ServiceMetrics& m = service();
  if (prompt_tokens > 0) m.llm_tokens.with({engine, "prompt"}).inc(prompt_tokens);
  if (completion_tokens > 0) m.llm_tokens.with({engine, "completion"}).inc(completion_tokens);
  if (completion_tokens > 0 && seconds > 0) {
    m.llm_tokens_per_second.with({engine}).observe(completion_tokens / seconds);
  }
}

}  // namespace scribepod::metrics
