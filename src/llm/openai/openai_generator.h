// The OpenAI-compatible generator: any /v1/chat/completions server
// (OpenAI, llama-server, vLLM, Ollama) behind the Generator interface.
//
// generate() sends one POST {base_url}/v1/chat/completions (body described
// in chat_completion.h; a JSON schema goes out as a strict json_schema
// response_format) and returns choices[0].message.content with the server's
// model name and token counts; finish_reason "length" sets `truncated`.
// The content is passed through unchanged, schema or not: the server may
// ignore the schema, and validating (and repairing) the output is the
// caller's job, as generator.h says.
//
// Every call runs through one remote::Backend, so it has connect and total
// timeouts, retries with jittered exponential backoff only for retryable
// failures (unreachable, timed out, 429 and 503 honouring Retry-After, other
// 5xx) and one circuit breaker for this backend. Failures keep the codes of
// remote/backend.h (kUpstreamFailed, kUpstreamTimeout, kUnavailable with
// retry_after); a 2xx reply we cannot use (not JSON, no choices, a refusal)
// is kUpstreamFailed and is not retried.
//
// on_text is called once, with the whole content, when it has arrived: the
// remote client buffers whole responses, so there is no token streaming
// from this engine (a false return has nothing left to cancel).
//
// At most `max_concurrency` calls are in flight at once; a caller waits up to
// `queue_timeout` for a slot, then fails with kUnavailable.
//
// ready() is false while the circuit is open, with the detail "circuit
// open, retry in Ns". N is measured from the moment this generator saw the
// circuit open, so it may be later than the breaker's own deadline by up to
// one backoff delay, never earlier. A half-open circuit reads as ready: the
// next call is the probe that may close it.
//
// Thread-safe. The API key is sent as "Authorization: Bearer ..." and never
// logged or put in a message.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/result.h"
#include "llm/generator.h"
#include "remote/backend.h"

namespace scribepod::llm {

struct OpenAiParams {
  // Server root, e.g. "https://api.openai.com" or "http://127.0.0.1:8080". A
  // trailing "/v1" (the OpenAI SDKs' habit) is accepted and not doubled.
  std::string base_url;  // llm.remote_url: required, never a built-in default
  std::string api_key;   // secret; "" sends no Authorization header
  std::string model = "gpt-4o-mini";
  // One attempt's limits. A structured thought is a few hundred tokens, which
  // a loaded server may take tens of seconds to produce.
  remote::ClientOptions timeouts{.connect_timeout = std::chrono::seconds(5),
                                 .total_timeout = std::chrono::seconds(60),
                                 .max_response_bytes = 4 * 1024 * 1024};
  remote::RetryPolicy retry = remote::RetryPolicy::default_policy();
  remote::BreakerOptions breaker = remote::BreakerOptions::default_options();
  remote::RetryHooks retry_hooks{};     // tests only: injectable sleep and randomness
  std::string backend_name = "openai";  // in logs, errors and metrics
  int max_concurrency = 8;              // calls in flight at once
  std::chrono::milliseconds queue_timeout{30000};

  static OpenAiParams default_params() { return {}; }
};

class OpenAiGenerator final : public Generator {
  struct Passkey {};  // keeps construction to create(), which validates

 public:
  // Fails with kInvalidConfig when base_url is not an http(s) URL, the model
  // is empty or a limit is out of range. Makes no network call: an
  // unreachable server shows at the first request (and in ready()).
  static Result<std::unique_ptr<OpenAiGenerator>> create(OpenAiParams params);

  std::string name() const override { return "openai"; }
  // "<model> at <url without credentials> (circuit <state>)"
  std::string describe() const override;
  bool ready(std::string& detail) const override;
  Result<Generation> generate(const GenerateRequest& request) override;

  const OpenAiParams& params() const { return params_; }

  OpenAiGenerator(Passkey, OpenAiParams params);

 private:
  Status acquire_slot();
  void release_slot();
  void note_breaker_state();

  const OpenAiParams params_;
  remote::Backend backend_;

  std::mutex slots_mu_;
  std::condition_variable slots_cv_;
  int in_flight_ = 0;

  // When the circuit, as last seen open, lets a probe through (see ready()).
  mutable std::mutex open_mu_;
  std::optional<std::chrono::steady_clock::time_point> probe_at_;
};

// The same, as the interface the rest of the program holds.
Result<std::unique_ptr<Generator>> make_openai_generator(const OpenAiParams& params);

}  // namespace scribepod::llm
