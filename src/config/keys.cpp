#include "config/keys.h"

#include <algorithm>
#include <cmath>
#include <concepts>

namespace scribepod::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// ---------------------------------------------------------------------------
// Accessors: one setter/getter pair per Config field, generated from member
// pointers so the table cannot point a key at the wrong field type.

void assign(std::string& field, const Value& v) { field = std::get<std::string>(v); }
void assign(bool& field, const Value& v) { field = std::get<bool>(v); }
void assign(double& field, const Value& v) { field = std::get<double>(v); }
void assign(milliseconds& field, const Value& v) { field = std::get<milliseconds>(v); }
void assign(seconds& field, const Value& v) {
  field = std::chrono::duration_cast<seconds>(std::get<milliseconds>(v));
}
void assign(std::vector<std::string>& field, const Value& v) {
  field = std::get<std::vector<std::string>>(v);
}
// Integers were range-checked against the key's bounds before they get here,
// and every bound fits the field's type, so the narrowing cast is exact.
template <std::integral T>
requires(!std::same_as<T, bool>) void assign(T& field, const Value& v) {
  field = static_cast<T>(std::get<int64_t>(v));
}

Value to_value(const std::string& f) { return Value(std::in_place_type<std::string>, f); }
Value to_value(bool f) { return Value(std::in_place_type<bool>, f); }
Value to_value(double f) { return Value(std::in_place_type<double>, f); }
Value to_value(milliseconds f) { return Value(std::in_place_type<milliseconds>, f); }
Value to_value(seconds f) { return Value(std::in_place_type<milliseconds>, milliseconds(f)); }
Value to_value(const std::vector<std::string>& f) {
  return Value(std::in_place_type<std::vector<std::string>>, f);
}
template <std::integral T>
requires(!std::same_as<T, bool>) Value to_value(T f) {
  return Value(std::in_place_type<int64_t>, static_cast<int64_t>(f));
}

struct Accessor {
  void (*set)(Config&, const Value&);
  Value (*get)(const Config&);
};

// A field of a section: field<&Config::server, &ServerConfig::port>().
template <auto Section, auto Field>
Accessor field() {
  return {[](Config& c, const Value& v) { assign(c.*Section.*Field, v); },
          [](const Config& c) -> Value { return to_value(c.*Section.*Field); }};
}

// A top-level field: top<&Config::data_dir>().
template <auto Field>
Accessor top() {
  return {[](Config& c, const Value& v) { assign(c.*Field, v); },
          [](const Config& c) -> Value { return to_value(c.*Field); }};
}

// ---------------------------------------------------------------------------
// Table builders, one per type, so each row of the table reads as one line.

using Env = std::vector<std::string_view>;

KeySpec base(std::string_view key, Env env, ValueType type, std::string_view doc, Accessor a) {
  KeySpec s;
  s.key = key;
  s.env = std::move(env);
  s.type = type;
  s.doc = doc;
  s.set = a.set;
  s.get = a.get;
  return s;
}

KeySpec string_key(std::string_view key, Env env, std::string_view doc, Accessor a) {
  return base(key, std::move(env), ValueType::kString, doc, a);
}

KeySpec secret_key(std::string_view key, Env env, ValueType type, std::string_view doc,
                   Accessor a) {
  KeySpec s = base(key, std::move(env), type, doc, a);
  s.secret = true;
  return s;
}

KeySpec bool_key(std::string_view key, Env env, std::string_view doc, Accessor a) {
  return base(key, std::move(env), ValueType::kBool, doc, a);
}

KeySpec integer_key(std::string_view key, Env env, int64_t min, int64_t max, std::string_view doc,
                    Accessor a) {
  KeySpec s = base(key, std::move(env), ValueType::kInteger, doc, a);
  s.min = min;
  s.max = max;
  return s;
}

KeySpec size_key(std::string_view key, Env env, int64_t min, int64_t max, std::string_view doc,
                 Accessor a) {
  KeySpec s = base(key, std::move(env), ValueType::kSize, doc, a);
  s.min = min;
  s.max = max;
  return s;
}

// A number in (min, max] when min_exclusive, else [min, max].
KeySpec double_key(std::string_view key, Env env, double min, bool min_exclusive, double max,
                   std::string_view doc, Accessor a) {
  KeySpec s = base(key, std::move(env), ValueType::kDouble, doc, a);
  s.min_double = min;
  s.max_double = max;
  s.min_exclusive = min_exclusive;
  return s;
}

KeySpec duration_key(std::string_view key, Env env, milliseconds unit, milliseconds min,
                     milliseconds max, std::string_view doc, Accessor a) {
  KeySpec s = base(key, std::move(env), ValueType::kDuration, doc, a);
  s.unit = unit;
  s.min = min.count();
  s.max = max.count();
  return s;
}

KeySpec list_key(std::string_view key, Env env, std::string_view doc, Accessor a) {
  return base(key, std::move(env), ValueType::kStringList, doc, a);
}

KeySpec enum_key(std::string_view key, Env env, std::vector<std::string_view> choices,
                 std::vector<std::pair<std::string_view, std::string_view>> aliases,
                 std::string_view doc, Accessor a) {
  KeySpec s = base(key, std::move(env), ValueType::kEnum, doc, a);
  s.choices = std::move(choices);
  s.choice_aliases = std::move(aliases);
  return s;
}

constexpr milliseconds kMs{1};
constexpr milliseconds kSecond{1000};
constexpr milliseconds kHour{3'600'000};

std::vector<KeySpec> build_table() {
  using S = ServerConfig;
  using C = CorsConfig;
  using A = AuthConfig;
  using R = RateLimitConfig;
  using L = LogConfig;
  using Au = AudioConfig;
  using As = AsrConfig;
  using M = MindConfig;
  using Ll = LlmConfig;
  using Se = SessionConfig;
  using St = StoreConfig;
  using Lv = LiveConfig;
  constexpr auto kServer = &Config::server;
  constexpr auto kCors = &Config::cors;
  constexpr auto kAuth = &Config::auth;
  constexpr auto kRate = &Config::rate_limit;
  constexpr auto kLog = &Config::log;
  constexpr auto kAudio = &Config::audio;
  constexpr auto kAsr = &Config::asr;
  constexpr auto kMind = &Config::mind;
  constexpr auto kLlm = &Config::llm;
  constexpr auto kSession = &Config::session;
  constexpr auto kStore = &Config::store;
  constexpr auto kLive = &Config::live;

  std::vector<KeySpec> t;
  // --- server ---------------------------------------------------------------
  t.push_back(string_key("server.host", {"SCRIBEPOD_SERVER_HOST", "REASON_SERVER_HOST", "HOST"},
                         "Address to listen on (0.0.0.0 for all IPv4 interfaces, :: for IPv6)",
                         field<kServer, &S::host>()));
  t.push_back(integer_key("server.port", {"SCRIBEPOD_SERVER_PORT", "REASON_SERVER_PORT", "PORT"}, 0,
                          65535, "TCP port to listen on; 0 picks a free port (logged at start-up)",
                          field<kServer, &S::port>()));
  t.push_back(integer_key("server.threads", {"SCRIBEPOD_SERVER_THREADS"}, 0, 256,
                          "I/O threads; 0 = one per hardware thread",
                          field<kServer, &S::threads>()));
  t.push_back(integer_key("server.max_connections", {"SCRIBEPOD_SERVER_MAX_CONNECTIONS"}, 1,
                          1'000'000, "Open connections accepted at once; more wait in the backlog",
                          field<kServer, &S::max_connections>()));
  t.push_back(size_key("server.max_header_bytes", {"SCRIBEPOD_SERVER_MAX_HEADER_BYTES"}, kKiB, kMiB,
                       "Largest request line plus headers; larger requests get 431",
                       field<kServer, &S::max_header_bytes>()));
  t.push_back(size_key("server.max_body_bytes", {"SCRIBEPOD_SERVER_MAX_BODY_BYTES"}, kKiB, 4 * kGiB,
                       "Largest request body (uploads); larger requests get 413",
                       field<kServer, &S::max_body_bytes>()));
  t.push_back(duration_key("server.read_timeout", {"SCRIBEPOD_SERVER_READ_TIMEOUT"}, kMs, kMs,
                           kHour, "Time allowed to receive one whole request; then 408",
                           field<kServer, &S::read_timeout>()));
  t.push_back(duration_key("server.idle_timeout", {"SCRIBEPOD_SERVER_IDLE_TIMEOUT"}, kMs, kMs,
                           kHour, "Keep-alive wait for the next request on a connection",
                           field<kServer, &S::idle_timeout>()));
  t.push_back(duration_key("server.write_timeout", {"SCRIBEPOD_SERVER_WRITE_TIMEOUT"}, kMs, kMs,
                           kHour, "Time allowed to send one whole response",
                           field<kServer, &S::write_timeout>()));
  t.push_back(duration_key("server.shutdown_grace", {"SCRIBEPOD_SERVER_SHUTDOWN_GRACE"}, kMs,
                           milliseconds{0}, kHour,
                           "On SIGTERM/SIGINT, how long in-flight work may finish before exit",
                           field<kServer, &S::shutdown_grace>()));
  t.push_back(bool_key("server.allow_unauthenticated", {"SCRIBEPOD_SERVER_ALLOW_UNAUTHENTICATED"},
                       "Allow serving without API keys on a non-loopback address",
                       field<kServer, &S::allow_unauthenticated>()));
  t.push_back(
      enum_key("server.environment", {"SCRIBEPOD_SERVER_ENVIRONMENT", "SCRIBEPOD_ENV", "NODE_ENV"},
               {"production", "development"}, {{"test", "development"}},
               "production hides internal error details from responses; test means development",
               field<kServer, &S::environment>()));
  t.push_back(string_key("server.static_dir", {"SCRIBEPOD_SERVER_STATIC_DIR"},
                         "Directory of the web page; empty = <install>/share/scribepod/web",
                         field<kServer, &S::static_dir>()));
  // --- cors -----------------------------------------------------------------
  t.push_back(list_key("cors.allowed_origins",
                       {"SCRIBEPOD_CORS_ALLOWED_ORIGINS", "CORS_ALLOWED_ORIGINS"},
                       "Exact browser origins allowed cross-origin (scheme://host[:port])",
                       field<kCors, &C::allowed_origins>()));
  t.push_back(duration_key("cors.max_age", {"SCRIBEPOD_CORS_MAX_AGE"}, kSecond, milliseconds{0},
                           24 * kHour, "How long browsers may cache a preflight answer",
                           field<kCors, &C::max_age>()));
  // --- auth -----------------------------------------------------------------
  t.push_back(secret_key(
      "auth.api_keys", {"SCRIBEPOD_AUTH_API_KEYS", "API_KEY"}, ValueType::kStringList,
      "API keys clients must present; empty = no key required", field<kAuth, &A::api_keys>()));
  t.push_back(string_key("auth.api_keys_file", {"SCRIBEPOD_AUTH_API_KEYS_FILE", "API_KEYS_FILE"},
                         "File with more API keys, one per line; # comments, blank lines ignored",
                         field<kAuth, &A::api_keys_file>()));
  t.push_back(secret_key("auth.admin_key", {"SCRIBEPOD_AUTH_ADMIN_KEY", "ADMIN_API_KEY"},
                         ValueType::kString,
                         "Key for admin routes such as /sessions/stats; empty = admin routes off",
                         field<kAuth, &A::admin_key>()));
  // --- rate_limit -----------------------------------------------------------
  t.push_back(bool_key("rate_limit.enabled", {"SCRIBEPOD_RATE_LIMIT_ENABLED"},
                       "Apply the token-bucket rate limits (health and readiness are exempt)",
                       field<kRate, &R::enabled>()));
  t.push_back(double_key("rate_limit.per_client_rps", {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_RPS"}, 0,
                         true, 1e6, "Sustained requests per second per (API key, client IP)",
                         field<kRate, &R::per_client_rps>()));
  t.push_back(double_key("rate_limit.per_client_burst", {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_BURST"},
                         1, false, 1e6, "Requests a client may make at once before limiting",
                         field<kRate, &R::per_client_burst>()));
  t.push_back(double_key("rate_limit.per_session_rps", {"SCRIBEPOD_RATE_LIMIT_PER_SESSION_RPS"}, 0,
                         true, 1e6, "Sustained requests per second per X-Session-Id",
                         field<kRate, &R::per_session_rps>()));
  t.push_back(double_key("rate_limit.per_session_burst", {"SCRIBEPOD_RATE_LIMIT_PER_SESSION_BURST"},
                         1, false, 1e6, "Requests a session may make at once before limiting",
                         field<kRate, &R::per_session_burst>()));
  t.push_back(integer_key("rate_limit.max_tracked_clients",
                          {"SCRIBEPOD_RATE_LIMIT_MAX_TRACKED_CLIENTS"}, 1, 100'000'000,
                          "Buckets kept in memory before the idlest are evicted",
                          field<kRate, &R::max_tracked_clients>()));
  // --- log ------------------------------------------------------------------
  t.push_back(enum_key("log.level", {"SCRIBEPOD_LOG_LEVEL", "LOG_LEVEL"},
                       {"trace", "debug", "info", "warn", "error", "off"}, {{"warning", "warn"}},
                       "Least severe level written", field<kLog, &L::level>()));
  t.push_back(enum_key("log.format", {"SCRIBEPOD_LOG_FORMAT"}, {"json", "text"}, {},
                       "json = one JSON object per line; text = for people",
                       field<kLog, &L::format>()));
  t.push_back(string_key("log.dir", {"SCRIBEPOD_LOG_DIR", "LOG_DIR"},
                         "Also write <dir>/combined.log and <dir>/error.log; empty = stdout only",
                         field<kLog, &L::dir>()));
  t.push_back(size_key("log.max_file_bytes", {"SCRIBEPOD_LOG_MAX_FILE_BYTES"}, 4 * kKiB,
                       1024 * kGiB, "Size at which a log file is rotated",
                       field<kLog, &L::max_file_bytes>()));
  t.push_back(integer_key("log.max_files", {"SCRIBEPOD_LOG_MAX_FILES"}, 1, 1000,
                          "Rotated files kept per log", field<kLog, &L::max_files>()));
  t.push_back(bool_key("log.access_log", {"SCRIBEPOD_LOG_ACCESS_LOG"},
                       "Log one line per HTTP request", field<kLog, &L::access_log>()));
  // --- audio ----------------------------------------------------------------
  t.push_back(double_key("audio.max_duration_s", {"SCRIBEPOD_AUDIO_MAX_DURATION_S"}, 0, true, 86400,
                         "Longest audio accepted, in seconds; longer uploads get 413",
                         field<kAudio, &Au::max_duration_s>()));
  // --- asr ------------------------------------------------------------------
  t.push_back(enum_key("asr.engine", {"SCRIBEPOD_ASR_ENGINE"},
                       {"pocketsphinx", "whisper", "remote"}, {}, "Speech recognition engine",
                       field<kAsr, &As::engine>()));
  t.push_back(string_key("asr.language", {"SCRIBEPOD_ASR_LANGUAGE"},
                         "Spoken language code, e.g. en (whisper and remote engines)",
                         field<kAsr, &As::language>()));
  t.push_back(integer_key("asr.concurrency", {"SCRIBEPOD_ASR_CONCURRENCY"}, 1, 256,
                          "Recognitions running at once (decoders, whisper states)",
                          field<kAsr, &As::concurrency>()));
  t.push_back(integer_key("asr.threads", {"SCRIBEPOD_ASR_THREADS"}, 1, 256,
                          "CPU threads per whisper decode", field<kAsr, &As::threads>()));
  t.push_back(string_key("asr.whisper_model", {"SCRIBEPOD_ASR_WHISPER_MODEL"},
                         "ggml model file; empty = <data_dir>/models/ggml-base.en.bin",
                         field<kAsr, &As::whisper_model>()));
  t.push_back(string_key("asr.pocketsphinx_model_dir", {"SCRIBEPOD_ASR_POCKETSPHINX_MODEL_DIR"},
                         "PocketSphinx model directory (en-us acoustic model, LM, dictionary)",
                         field<kAsr, &As::pocketsphinx_model_dir>()));
  t.push_back(integer_key("asr.pocketsphinx_stream_fwdflat_ms",
                          {"SCRIBEPOD_ASR_POCKETSPHINX_STREAM_FWDFLAT_MS"}, -1, 600000,
                          "Live streams use the fwdflat pass until this many ms of speech, then a "
                          "fast search (cheaper finals on long utterances); -1 = always",
                          field<kAsr, &As::pocketsphinx_stream_fwdflat_ms>()));
  t.push_back(bool_key("asr.pocketsphinx_background_search",
                       {"SCRIBEPOD_ASR_POCKETSPHINX_BACKGROUND_SEARCH"},
                       "Live streams do their slow recogniser steps (settles at pauses, CMN "
                       "restarts) on a second PocketSphinx handle, on another thread (~115 MB "
                       "more per decoder); false = on the stream's own thread",
                       field<kAsr, &As::pocketsphinx_background_search>()));
  t.push_back(string_key("asr.remote_url", {"SCRIBEPOD_ASR_REMOTE_URL"},
                         "Root URL of an OpenAI-compatible transcription server (remote engine)",
                         field<kAsr, &As::remote_url>()));
  t.push_back(secret_key("asr.remote_api_key", {"SCRIBEPOD_ASR_REMOTE_API_KEY"}, ValueType::kString,
                         "Bearer key for the remote engine; empty = none",
                         field<kAsr, &As::remote_api_key>()));
  t.push_back(string_key("asr.remote_model", {"SCRIBEPOD_ASR_REMOTE_MODEL"},
                         "Model name sent to the remote engine", field<kAsr, &As::remote_model>()));
  t.push_back(duration_key("asr.remote_timeout", {"SCRIBEPOD_ASR_REMOTE_TIMEOUT"}, kMs, kMs, kHour,
                           "Time allowed for one remote transcription request",
                           field<kAsr, &As::remote_timeout>()));
  t.push_back(integer_key("asr.remote_attempts", {"SCRIBEPOD_ASR_REMOTE_ATTEMPTS"}, 1, 10,
                          "Tries per remote request (retryable failures only)",
                          field<kAsr, &As::remote_attempts>()));
  t.push_back(bool_key("asr.vad_gate", {"SCRIBEPOD_ASR_VAD_GATE"},
                       "Skip recognition of audio in which no speech is detected",
                       field<kAsr, &As::vad_gate>()));
  // --- mind -----------------------------------------------------------------
  t.push_back(enum_key("mind.engine", {"SCRIBEPOD_MIND_ENGINE"}, {"heuristic", "llama", "openai"},
                       {}, "Thoughts engine: heuristic (no model), llama (GGUF) or openai (remote)",
                       field<kMind, &M::engine>()));
  t.push_back(
      string_key("mind.prompts_dir", {"SCRIBEPOD_MIND_PROMPTS_DIR"},
                 "Prompt templates; empty = ./prompts, else <install>/share/scribepod/prompts",
                 field<kMind, &M::prompts_dir>()));
  t.push_back(integer_key("mind.max_history_lines", {"SCRIBEPOD_MIND_MAX_HISTORY_LINES"}, 1, 1000,
                          "Most recent conversation lines given to the model",
                          field<kMind, &M::max_history_lines>()));
  t.push_back(bool_key("mind.parallel_fields", {"SCRIBEPOD_MIND_PARALLEL_FIELDS"},
                       "Write the five thought fields side by side, one sequence each in one "
                       "batch (llama engine): faster, but a field does not see the others",
                       field<kMind, &M::parallel_fields>()));
  // --- llm ------------------------------------------------------------------
  t.push_back(
      string_key("llm.model", {"SCRIBEPOD_LLM_MODEL"},
                 "GGUF model file; empty = <data_dir>/models/qwen2.5-0.5b-instruct-q4_k_m.gguf",
                 field<kLlm, &Ll::model>()));
  t.push_back(integer_key("llm.context_size", {"SCRIBEPOD_LLM_CONTEXT_SIZE"}, 256, 131072,
                          "Tokens of context per generation", field<kLlm, &Ll::context_size>()));
  t.push_back(integer_key("llm.threads", {"SCRIBEPOD_LLM_THREADS"}, 1, 256,
                          "CPU threads per generation", field<kLlm, &Ll::threads>()));
  t.push_back(integer_key("llm.concurrency", {"SCRIBEPOD_LLM_CONCURRENCY"}, 1, 256,
                          "Generations running at once", field<kLlm, &Ll::concurrency>()));
  t.push_back(integer_key("llm.max_tokens", {"SCRIBEPOD_LLM_MAX_TOKENS"}, 16, 8192,
                          "Most tokens generated per answer", field<kLlm, &Ll::max_tokens>()));
  t.push_back(double_key("llm.temperature", {"SCRIBEPOD_LLM_TEMPERATURE"}, 0, false, 2,
                         "Sampling temperature (0 = greedy)", field<kLlm, &Ll::temperature>()));
  t.push_back(integer_key("llm.seed", {"SCRIBEPOD_LLM_SEED"}, 0, 4294967295,
                          "Sampling seed; 0 = a random one per generation (a fixed seed "
                          "makes answers at temperature > 0 repeatable)",
                          field<kLlm, &Ll::seed>()));
  t.push_back(integer_key("llm.batch", {"SCRIBEPOD_LLM_BATCH"}, 1, 8192,
                          "Prompt tokens evaluated per llama_decode call (llama engine)",
                          field<kLlm, &Ll::batch>()));
  t.push_back(duration_key("llm.queue_timeout", {"SCRIBEPOD_LLM_QUEUE_TIMEOUT"}, kMs,
                           milliseconds(0), kHour,
                           "How long a thoughts request waits for a free context (llama) or "
                           "connection slot (openai) before 503; 0 = fail at once when all "
                           "are busy",
                           field<kLlm, &Ll::queue_timeout>()));
  t.push_back(bool_key("llm.prompt_cache", {"SCRIBEPOD_LLM_PROMPT_CACHE"},
                       "Reuse each context's KV cache for the prompt prefix the next "
                       "generation shares (llama engine)",
                       field<kLlm, &Ll::prompt_cache>()));
  t.push_back(string_key("llm.remote_url", {"SCRIBEPOD_LLM_REMOTE_URL"},
                         "Root URL of an OpenAI-compatible chat server (openai engine)",
                         field<kLlm, &Ll::remote_url>()));
  t.push_back(secret_key("llm.remote_api_key", {"SCRIBEPOD_LLM_REMOTE_API_KEY", "OPENAI_API_KEY"},
                         ValueType::kString, "Bearer key for the chat server; empty = none",
                         field<kLlm, &Ll::remote_api_key>()));
  t.push_back(string_key("llm.remote_model", {"SCRIBEPOD_LLM_REMOTE_MODEL"},
                         "Model name sent to the chat server", field<kLlm, &Ll::remote_model>()));
  t.push_back(duration_key("llm.remote_timeout", {"SCRIBEPOD_LLM_REMOTE_TIMEOUT"}, kMs, kMs, kHour,
                           "Time allowed for one chat completion request",
                           field<kLlm, &Ll::remote_timeout>()));
  t.push_back(integer_key("llm.remote_attempts", {"SCRIBEPOD_LLM_REMOTE_ATTEMPTS"}, 1, 10,
                          "Tries per chat request (retryable failures only)",
                          field<kLlm, &Ll::remote_attempts>()));
  // --- session --------------------------------------------------------------
  t.push_back(duration_key("session.timeout", {"SCRIBEPOD_SESSION_TIMEOUT", "SESSION_TIMEOUT"}, kMs,
                           kSecond, 30 * 24 * kHour, "Idle conversations expire after this long",
                           field<kSession, &Se::timeout>()));
  t.push_back(duration_key("session.sweep_interval", {"SCRIBEPOD_SESSION_SWEEP_INTERVAL"}, kMs,
                           kSecond, 24 * kHour, "How often idle conversations are swept",
                           field<kSession, &Se::sweep_interval>()));
  t.push_back(integer_key("session.max_sessions", {"SCRIBEPOD_SESSION_MAX_SESSIONS"}, 1, 10'000'000,
                          "Conversations held at once; a new one beyond gets 503",
                          field<kSession, &Se::max_sessions>()));
  // --- store ----------------------------------------------------------------
  t.push_back(enum_key("store.backend", {"SCRIBEPOD_STORE_BACKEND"}, {"sqlite", "postgres"},
                       {{"postgresql", "postgres"}}, "Where conversation history is kept",
                       field<kStore, &St::backend>()));
  t.push_back(string_key("store.sqlite_path", {"SCRIBEPOD_STORE_SQLITE_PATH"},
                         "SQLite database file; empty = <data_dir>/scribepod.db",
                         field<kStore, &St::sqlite_path>()));
  t.push_back(secret_key("store.postgres_url", {"SCRIBEPOD_STORE_POSTGRES_URL", "DATABASE_URL"},
                         ValueType::kString,
                         "PostgreSQL URL postgresql://user[:password]@host:port/db (postgres)",
                         field<kStore, &St::postgres_url>()));
  t.push_back(duration_key("store.retention", {"SCRIBEPOD_STORE_RETENTION"}, kSecond,
                           milliseconds{0}, 3650 * 24 * kHour,
                           "History idle longer than this is deleted; 0 = keep forever",
                           field<kStore, &St::retention>()));
  // --- live -----------------------------------------------------------------
  t.push_back(integer_key("live.max_streams", {"SCRIBEPOD_LIVE_MAX_STREAMS"}, 1, 1'000'000,
                          "Open /v1/stream connections; more get 503",
                          field<kLive, &Lv::max_streams>()));
  t.push_back(size_key("live.max_frame_bytes", {"SCRIBEPOD_LIVE_MAX_FRAME_BYTES"}, kKiB, 16 * kMiB,
                       "Largest WebSocket message; larger ones close the stream (1009)",
                       field<kLive, &Lv::max_frame_bytes>()));
  t.push_back(double_key("live.max_realtime_factor", {"SCRIBEPOD_LIVE_MAX_REALTIME_FACTOR"}, 1,
                         false, 1000, "Audio sent faster than this many times real time is refused",
                         field<kLive, &Lv::max_realtime_factor>()));
  t.push_back(duration_key("live.partial_interval", {"SCRIBEPOD_LIVE_PARTIAL_INTERVAL"}, kMs,
                           milliseconds{50}, kHour, "Least time between two partials",
                           field<kLive, &Lv::partial_interval>()));
  t.push_back(duration_key("live.endpoint_silence", {"SCRIBEPOD_LIVE_ENDPOINT_SILENCE"}, kMs,
                           milliseconds{100}, 10 * kSecond,
                           "Silence that ends an utterance, normally",
                           field<kLive, &Lv::endpoint_silence>()));
  t.push_back(duration_key("live.endpoint_min_silence", {"SCRIBEPOD_LIVE_ENDPOINT_MIN_SILENCE"},
                           kMs, milliseconds{100}, 10 * kSecond,
                           "Silence that ends an utterance after a finished sentence",
                           field<kLive, &Lv::endpoint_min_silence>()));
  t.push_back(duration_key(
      "live.endpoint_max_silence", {"SCRIBEPOD_LIVE_ENDPOINT_MAX_SILENCE"}, kMs, milliseconds{100},
      10 * kSecond, "Silence that ends an utterance after a trailing \"and\", \"so\", \"um\"",
      field<kLive, &Lv::endpoint_max_silence>()));
  t.push_back(duration_key(
      "live.pause_silence", {"SCRIBEPOD_LIVE_PAUSE_SILENCE"}, kMs, milliseconds{0}, 10 * kSecond,
      "Silence inside an utterance after which the recogniser settles the words so far (0: off)",
      field<kLive, &Lv::pause_silence>()));
  t.push_back(duration_key("live.max_utterance", {"SCRIBEPOD_LIVE_MAX_UTTERANCE"}, kMs, kSecond,
                           kHour, "Longer utterances are split",
                           field<kLive, &Lv::max_utterance>()));
  t.push_back(duration_key("live.max_backlog", {"SCRIBEPOD_LIVE_MAX_BACKLOG"}, kMs, kSecond, kHour,
                           "Audio waiting for the recogniser before a stream is cut (1013)",
                           field<kLive, &Lv::max_backlog>()));
  t.push_back(duration_key(
      "live.resume_grace", {"SCRIBEPOD_LIVE_RESUME_GRACE"}, kMs, milliseconds{0}, 24 * kHour,
      "How long a dropped stream's session can be resumed", field<kLive, &Lv::resume_grace>()));
  t.push_back(duration_key("live.idle_timeout", {"SCRIBEPOD_LIVE_IDLE_TIMEOUT"}, kMs, kSecond,
                           kHour, "A stream with no message for this long is closed (4408)",
                           field<kLive, &Lv::idle_timeout>()));
  // --- top level ------------------------------------------------------------
  t.push_back(string_key("data_dir", {"SCRIBEPOD_DATA_DIR", "DATA_DIR"},
                         "Directory for the database, podcasts and downloaded models",
                         top<&Config::data_dir>()));
  return t;
}

Error control_char_error() {
  return Error::invalid_config("control characters (newline, tab, ...) are not allowed");
}

Error expected_error(const KeySpec& spec) {
  return Error::invalid_config("expected " + describe_expected(spec));
}

// A parser's own message adds to "expected ..." only when it says more
// ("unknown duration unit "x"").
Error expected_error(const KeySpec& spec, const Error& detail) {
  if (detail.message.starts_with("expected ")) return expected_error(spec);
  return Error::invalid_config(detail.message + "; expected " + describe_expected(spec));
}

// Optimal string alignment distance (Levenshtein plus adjacent swaps),
// capped: anything above `limit` is reported as limit + 1.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
  const std::size_t gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (gap > limit) return limit + 1;
  // Three rows: the one before last (for swaps), the last, the current.
  std::vector<std::size_t> before(b.size() + 1), last(b.size() + 1), row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) last[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({last[j] + 1, row[j - 1] + 1, last[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        row[j] = std::min(row[j], before[j - 2] + 1);
      }
    }
    std::swap(before, last);
    std::swap(last, row);
  }
  return std::min(last[b.size()], limit + 1);
}

}  // namespace

// ---------------------------------------------------------------------------

const std::vector<KeySpec>& key_table() {
  static const std::vector<KeySpec> table = build_table();
  return table;
}

const KeySpec* find_key(std::string_view key) {
  for (const KeySpec& spec : key_table()) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

std::string suggest_key(std::string_view unknown) {
  // Long inputs cannot be close to any key; skip the quadratic work.
  if (unknown.size() > 64) return {};
  const std::string wanted = to_lower(unknown);
  std::string best;
  std::size_t best_distance = 3;  // suggest only within two edits
  const auto consider = [&](std::string_view candidate) {
    const std::size_t d = edit_distance(wanted, candidate, 2);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(candidate);
    }
  };
  for (const KeySpec& spec : key_table()) {
    consider(spec.key);
    const auto dot = spec.key.find('.');
    if (dot != std::string_view::npos) consider(spec.key.substr(0, dot));  // the section
  }
  return best;
}

std::string did_you_mean(std::string_view unknown) {
  const std::string suggestion = suggest_key(unknown);
  return suggestion.empty() ? std::string() : "; did you mean \"" + suggestion + "\"?";
}

std::string primary_env_var(std::string_view key) {
  std::string out = "SCRIBEPOD_";
  for (char c : key) {
    if (c == '.') {
      out += '_';
    } else if (c >= 'a' && c <= 'z') {
      out += static_cast<char>(c - 'a' + 'A');
    } else {
      out += c;
    }
  }
  return out;
}

std::string describe_expected(const KeySpec& spec) {
  switch (spec.type) {
    case ValueType::kString:
      return "a string";
    case ValueType::kBool:
      return "true or false (also 1/0, yes/no, on/off)";
    case ValueType::kInteger:
      return "an integer " + std::to_string(spec.min) + ".." + std::to_string(spec.max);
    case ValueType::kDouble:
      return "a number " + std::string(spec.min_exclusive ? "> " : ">= ") +
             format_number(spec.min_double) + " and <= " + format_number(spec.max_double);
    case ValueType::kDuration: {
      const bool seconds_unit = spec.unit == std::chrono::seconds(1);
      return "a duration " + format_duration(milliseconds(spec.min)) + ".." +
             format_duration(milliseconds(spec.max)) +
             (seconds_unit ? " in whole seconds (e.g. 600, 10m; a bare number means seconds)"
                           : " (e.g. 10s, 250ms; a bare number means milliseconds)");
    }
    case ValueType::kSize:
      return "a size " + format_size(spec.min) + ".." + format_size(spec.max) +
             " (e.g. 16KiB, 10MB, 10MiB; a bare number means bytes)";
    case ValueType::kStringList:
      return "a list of strings (comma-separated outside TOML)";
    case ValueType::kEnum: {
      std::string out = "one of ";
      for (std::size_t i = 0; i < spec.choices.size(); ++i) {
        if (i > 0) out += ", ";
        out += spec.choices[i];
      }
      return out;
    }
  }
  return "?";
}

Result<Value> check_value(const KeySpec& spec, Value value) {
  switch (spec.type) {
    case ValueType::kBool:
      return value;
    case ValueType::kString:
      if (has_control_char(std::get<std::string>(value))) return control_char_error();
      return value;
    case ValueType::kStringList:
      for (const std::string& item : std::get<std::vector<std::string>>(value)) {
        if (has_control_char(item)) return control_char_error();
      }
      return value;
    case ValueType::kInteger:
    case ValueType::kSize: {
      const int64_t n = std::get<int64_t>(value);
      if (n < spec.min || n > spec.max) return expected_error(spec);
      return value;
    }
    case ValueType::kDouble: {
      const double d = std::get<double>(value);
      const bool low_ok = spec.min_exclusive ? d > spec.min_double : d >= spec.min_double;
      if (!std::isfinite(d) || !low_ok || d > spec.max_double) return expected_error(spec);
      return value;
    }
    case ValueType::kDuration: {
      const int64_t ms = std::get<milliseconds>(value).count();
      if (ms < spec.min || ms > spec.max || ms % spec.unit.count() != 0) {
        return expected_error(spec);
      }
      return value;
    }
    case ValueType::kEnum: {
      const std::string word = to_lower(trim(std::get<std::string>(value)));
      for (std::string_view choice : spec.choices) {
        if (word == choice) return Value(std::in_place_type<std::string>, choice);
      }
      for (const auto& [alias, canonical] : spec.choice_aliases) {
        if (word == alias) return Value(std::in_place_type<std::string>, canonical);
      }
      return expected_error(spec);
    }
  }
  return expected_error(spec);
}

Result<Value> parse_value(const KeySpec& spec, std::string_view text) {
  switch (spec.type) {
    case ValueType::kString:
    case ValueType::kEnum:
      return check_value(spec, Value(std::in_place_type<std::string>, text));
    case ValueType::kStringList:
      return check_value(spec,
                         Value(std::in_place_type<std::vector<std::string>>, split_list(text)));
    case ValueType::kBool: {
      auto b = parse_bool(text);
      if (!b) return expected_error(spec);
      return Value(std::in_place_type<bool>, *b);
    }
    case ValueType::kInteger: {
      auto n = parse_integer(text);
      if (!n) return expected_error(spec);
      return check_value(spec, Value(std::in_place_type<int64_t>, *n));
    }
    case ValueType::kSize: {
      auto n = parse_size(text);
      if (!n) return expected_error(spec, n.error());
      return check_value(spec, Value(std::in_place_type<int64_t>, *n));
    }
    case ValueType::kDouble: {
      auto d = parse_double(text);
      if (!d) return expected_error(spec);
      return check_value(spec, Value(std::in_place_type<double>, *d));
    }
    case ValueType::kDuration: {
      auto ms = parse_duration(text, spec.unit);
      if (!ms) return expected_error(spec, ms.error());
      return check_value(spec, Value(std::in_place_type<milliseconds>, *ms));
    }
  }
  return expected_error(spec);
}

std::string format_value(const KeySpec& spec, const Value& value) {
  switch (spec.type) {
    case ValueType::kString:
    case ValueType::kEnum:
      return std::get<std::string>(value);
    case ValueType::kBool:
      return std::get<bool>(value) ? "true" : "false";
    case ValueType::kInteger:
      return std::to_string(std::get<int64_t>(value));
    case ValueType::kSize:
      return format_size(std::get<int64_t>(value));
    case ValueType::kDouble:
      return format_number(std::get<double>(value));
    case ValueType::kDuration:
      return format_duration(std::get<milliseconds>(value));
    case ValueType::kStringList: {
      std::string out;
      for (const std::string& item : std::get<std::vector<std::string>>(value)) {
        if (!out.empty()) out += ',';
        out += item;
      }
      return out;
    }
  }
  return {};
}

std::string quote_value(std::string_view value) {
  constexpr std::size_t kMaxShown = 80;
  std::string out = "\"";
  for (std::size_t i = 0; i < value.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > kMaxShown) out += "...";
  out += '"';
  return out;
}

Error invalid_value_error(const KeySpec& spec, std::string_view shown, std::string_view source,
                          const Error& why) {
  const std::string value = spec.secret ? std::string("(secret, not shown)") : std::string(shown);
  return Error::invalid_config("invalid value " + value + " for " + std::string(spec.key) +
                               " (from " + std::string(source) + "): " + why.message);
}

}  // namespace scribepod::config
