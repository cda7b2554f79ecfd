// The effective configuration of one scribepod process.
//
// Every setting is declared once, in the key table of config/keys.cpp, with
// its dotted name (the TOML path, e.g. "server.port"), its environment
// variable(s), its default and whether it is a secret. Loading applies the
// sources in this order, later ones winning:
//
//   defaults < TOML file < .env file < process environment < command-line flags
//
// Invalid values fail the load with an Error whose message names the key and
// the source it came from. No host, port or path is hard-coded anywhere else:
// code reads them from here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scribepod::config {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 4200;
  int threads = 0;  // 0 = one per hardware thread
  std::size_t max_connections = 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  std::chrono::milliseconds read_timeout{10'000};    // to receive one whole request
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait between requests
  std::chrono::milliseconds write_timeout{30'000};   // to send one whole response
  std::chrono::milliseconds shutdown_grace{10'000};  // drain deadline on SIGTERM/SIGINT
  // Serve without API keys on a non-loopback address. Off by default: the
  // server refuses to start in that situation unless this is set.
  bool allow_unauthenticated = false;
  // Production mode hides internals (messages of internal errors) from
  // responses. "production" or "development".
  std::string environment = "development";
  std::string static_dir;  // the built web page; empty = <install>/share/scribepod/web
};

struct CorsConfig {
  std::vector<std::string> allowed_origins;  // exact origins, e.g. http://localhost:3000
  std::chrono::seconds max_age{600};
};

struct AuthConfig {
  std::vector<std::string> api_keys;  // from API_KEY (comma separated) — secret
  std::string api_keys_file;          // one key per line, '#' comments
  std::string admin_key;              // for admin routes (/sessions/stats) — secret
};

struct RateLimitConfig {
  bool enabled = true;
  double per_client_rps = 20.0;  // token refill per (API key, IP)
  double per_client_burst = 40.0;
  double per_session_rps = 5.0;  // token refill per X-Session-Id
  double per_session_burst = 20.0;
  std::size_t max_tracked_clients = 100'000;  // buckets kept before the idlest are evicted
};

struct LogConfig {
  std::string level = "info";   // trace, debug, info, warn, error, off
  std::string format = "json";  // json or text
  std::string dir;              // when set: <dir>/combined.log and <dir>/error.log, rotated
  std::size_t max_file_bytes = 10 * 1024 * 1024;
  std::size_t max_files = 5;
  bool access_log = true;
};

struct AudioConfig {
  double max_duration_s = 600;  // longer uploads get 413
};

struct AsrConfig {
  std::string engine = "pocketsphinx";  // pocketsphinx | whisper | remote
  std::string language = "en";
  std::size_t concurrency = 2;  // decodes at once (decoders, whisper states)
  int threads = 2;              // CPU threads per whisper decode
  std::string whisper_model;    // "" = <data_dir>/models/ggml-base.en.bin
  std::string pocketsphinx_model_dir = "/usr/share/pocketsphinx/model/en-us";
  // Live streams search with PocketSphinx's fwdflat pass until this much
  // speech, then without it (a cheap final); -1 = always with it.
  int pocketsphinx_stream_fwdflat_ms = 3000;
  // Live streams do their slow recogniser steps (settles at pauses, CMN
  // restarts) on a second PocketSphinx handle, on another thread (~115 MB
  // more per decoder).
  bool pocketsphinx_background_search = true;
  std::string remote_url;      // OpenAI-compatible server root
  std::string remote_api_key;  // secret
  std::string remote_model = "whisper-1";
  std::chrono::milliseconds remote_timeout{120'000};
  int remote_attempts = 3;
  bool vad_gate = true;  // skip recognition when no speech is detected
};

struct MindConfig {
  std::string engine = "heuristic";    // heuristic | llama | openai
  std::string prompts_dir;             // "" = ./prompts, else <install>/share/scribepod/prompts
  std::size_t max_history_lines = 20;  // conversation lines given to the model
  bool parallel_fields = true;         // write the five fields side by side (llama)
};

struct LlmConfig {
  std::string model;  // GGUF file; "" = <data_dir>/models/qwen2.5-0.5b-instruct-q4_k_m.gguf
  std::size_t context_size = 4096;
  int threads = 2;              // CPU threads per generation
  std::size_t concurrency = 2;  // generations at once (contexts)
  int max_tokens = 512;         // five fields need room
  double temperature = 0.2;
  std::uint32_t seed = 0;    // sampling seed; 0 = a random one per generation
  bool prompt_cache = true;  // reuse each context's KV cache across generations
  int batch = 512;           // prompt tokens per llama_decode call (llama engine)
  std::chrono::milliseconds queue_timeout{30'000};  // wait for a free context or slot
  std::string remote_url;                           // OpenAI-compatible server root (openai engine)
  std::string remote_api_key;                       // secret
  std::string remote_model = "gpt-4o-mini";
  std::chrono::milliseconds remote_timeout{60'000};
  int remote_attempts = 3;
};

struct SessionConfig {
  std::chrono::milliseconds timeout{3'600'000};       // idle conversations expire
  std::chrono::milliseconds sweep_interval{600'000};  // how often expiry runs
  std::size_t max_sessions = 10'000;                  // more get 503
};

struct StoreConfig {
  std::string backend = "sqlite";          // sqlite | postgres
  std::string sqlite_path;                 // "" = <data_dir>/scribepod.db
  std::string postgres_url;                // postgresql://user[:password]@host:port/db — secret
  std::chrono::milliseconds retention{0};  // history older than this is deleted; 0 = keep
};

struct LiveConfig {
  std::size_t max_streams = 64;                          // open /v1/stream connections
  std::size_t max_frame_bytes = 64 * 1024;               // one WebSocket message
  double max_realtime_factor = 4.0;                      // audio faster than this is refused
  std::chrono::milliseconds partial_interval{250};       // partial cadence
  std::chrono::milliseconds endpoint_silence{500};       // silence that ends an utterance
  std::chrono::milliseconds endpoint_min_silence{300};   // ... after a finished sentence
  std::chrono::milliseconds endpoint_max_silence{1200};  // ... after "and", "so", "um"
  std::chrono::milliseconds pause_silence{200};          // a pause: the recogniser settles
  std::chrono::milliseconds max_utterance{30'000};       // forced split
  std::chrono::milliseconds max_backlog{10'000};         // audio queued before the stream is cut
  std::chrono::milliseconds resume_grace{120'000};       // a dropped session stays resumable
  std::chrono::milliseconds idle_timeout{30'000};        // no message at all: close 4408
};

struct Config {
  ServerConfig server;
  CorsConfig cors;
  AuthConfig auth;
  RateLimitConfig rate_limit;
  LogConfig log;
  AudioConfig audio;
  AsrConfig asr;
  MindConfig mind;
  LlmConfig llm;
  SessionConfig session;
  StoreConfig store;
  LiveConfig live;
  std::string data_dir = "data";
};

// Where configuration comes from. The loader never reads the process
// environment or the filesystem except through these, so tests can set them.
struct Sources {
  std::optional<std::string> toml_path;            // explicit --config FILE; must exist
  std::optional<std::string> dotenv_path;          // .env; a missing default file is fine
  bool dotenv_required = false;                    // true when the path was given explicitly
  std::map<std::string, std::string> environment;  // usually the process environment
  // Flag overrides keyed by dotted key ("server.port" -> "8080"), applied last.
  std::map<std::string, std::string> flags;
};

// Fails with kInvalidConfig (a missing or unreadable file included); the
// message names the key, the offending value (never a secret's) and its source.
Result<Config> load(const Sources& sources);

// The same, also appending to `warnings` what was accepted but looks wrong:
// an unknown SCRIBEPOD_* variable (ignored), or one setting given under two of
// its variable names with different values (the first name in the key table,
// i.e. the SCRIBEPOD_* one, wins). Never contains a secret value.
Result<Config> load(const Sources& sources, std::vector<std::string>& warnings);

// Defaults overlaid with one TOML document, validated like load(), without
// touching the filesystem (auth.api_keys_file is kept but not read).
// `source_name` stands for the file in messages. For tests and the fuzzer.
Result<Config> load_from_toml_text(std::string_view text,
                                   std::string_view source_name = "config.toml");

// The effective configuration as a JSON object (nested by section), with
// every secret replaced by "***" (or "" when unset). Used by `scribepod config`.
std::string to_redacted_json(const Config& config, int indent = 2);

// Snapshot of the process environment for Sources::environment.
std::map<std::string, std::string> process_environment();

}  // namespace scribepod::config
