// Scribepod's own metric families (all named scribepod_*), and one-line
// helpers for the places that feed them. Defined here, in one list, so
// dashboards and alerts have a single source of truth for names, labels and
// buckets (deploy/grafana/ references only these).
//
// The constructor registers them (and sets build_info) in any registry;
// service() does so for the process registry on first use, together
// with the standard process_resident_memory_bytes and
// process_cpu_seconds_total (read from /proc/self at each scrape).
//
// Label values must come from small closed sets (route patterns, engine and
// backend names, error codes), never from request data: every distinct
// value is a time series kept for the life of the process.
//
// Units are seconds and bytes, as Prometheus expects.
#pragma once

#include <string_view>

#include "core/error.h"
#include "telemetry/metrics.h"

namespace scribepod::metrics {

struct ServiceMetrics {
  explicit ServiceMetrics(Registry& r);

  // HTTP, fed by http::MetricsMiddleware. route is the matched pattern
  // ("/v1/sessions/{id}") or "unmatched"; status is the numeric code.
  CounterFamily& http_requests;            // scribepod_http_requests_total{route,method,status}
  HistogramFamily& http_duration;          // scribepod_http_request_duration_seconds{route}
  GaugeFamily& active_sessions;            // scribepod_active_sessions
  GaugeFamily& active_streams;             // scribepod_active_streams (live streams open now)
  GaugeFamily& queue_depth;                // scribepod_queue_depth{stage}
  HistogramFamily& asr_duration;           // scribepod_asr_duration_seconds{engine}
  HistogramFamily& asr_rtf;                // scribepod_asr_realtime_factor{engine}
  HistogramFamily& thoughts_duration;      // scribepod_thoughts_duration_seconds{engine}
  HistogramFamily& llm_tokens_per_second;  // scribepod_llm_tokens_per_second{engine}
  CounterFamily& llm_tokens;               // scribepod_llm_tokens_total{engine,kind}
  CounterFamily& rate_limit_rejections;    // scribepod_rate_limit_rejections_total{scope}
  CounterFamily& remote_retries;           // scribepod_remote_retries_total{backend}
  GaugeFamily& circuit_breaker_state;      // scribepod_circuit_breaker_state{backend}
  CounterFamily& errors;                   // scribepod_errors_total{kind}
  GaugeFamily& build_info;                 // scribepod_build_info{version,commit} = 1
  // Live mode (wired by live/): seconds from the end of an utterance to its
  // final transcript, and partial results dropped because a client was slow.
  HistogramFamily& stream_final_latency;   // scribepod_stream_final_latency_seconds
  CounterFamily& stream_partials_dropped;  // scribepod_stream_partials_dropped_total
};

// The families in registry(), registered on first call (thread-safe).
const ServiceMetrics& service();

// Process figures from /proc/self (exposed for tests); 0 when unreadable.
double process_resident_memory_bytes();
double process_cpu_seconds();

// --- One-line helpers for instrumented code --------------------------------

// Every error answered over HTTP, by ErrorCode name ("rate_limited", ...).
// Resolved handles: no string work per call.
void count_error(ErrorCode code);
// scope: "client" or "session".
void count_rate_limit_rejection(std::string_view scope);
void count_remote_retry(std::string_view backend);
// state: breaker_state_name() of the breaker ("closed", "half_open",
// "open"), published as 0, 1, 2.
void set_breaker_state(std::string_view backend, std::string_view state);
double breaker_state_value(std::string_view state);
// One batch recognition: wall seconds for `audio_s` seconds of audio; also
// observes the real-time factor (seconds / audio_s) when audio_s > 0.
void observe_recognition(std::string_view engine, double audio_s, double seconds);
void observe_thoughts(std::string_view engine, double seconds);
// One generation: token counts and completion tokens per wall second of the
// whole call (prompt evaluation included, which is what a caller waits for).
void observe_generation(std::string_view engine, int prompt_tokens, int completion_tokens,
                        double seconds);

}  // namespace scribepod::metrics
