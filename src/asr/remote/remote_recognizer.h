// The remote recognizer: any OpenAI-compatible transcription server
// (OpenAI, a self-hosted whisper server, another Scribepod) behind the
// Recognizer interface.
//
// transcribe() encodes the audio as a 16-bit PCM WAV in memory and sends one
// multipart POST {base_url}/v1/audio/transcriptions with the fields file,
// model, language, prompt, temperature and response_format=verbose_json
// (plus timestamp_granularities[]=segment and =word when word timestamps are
// asked for), then reads text, segments, words and language from the reply.
// Every call runs through a remote::Backend, so it has connect and total
// timeouts, retries with backoff only for retryable failures (unreachable,
// timed out, 429, 5xx) and a circuit breaker. A reply that is not the
// expected JSON fails with kUpstreamFailed; other failures keep the codes
// documented in remote/backend.h. Empty audio gives an empty transcript
// without a request.
//
// Streaming buffers the utterance and sends it once, at finalize(). partial()
// always returns "": asking the server for the growing utterance over and
// over is exactly the re-transcription pattern Scribepod exists to avoid, and
// each request costs money and a network round trip. Use a local engine when
// live partial text matters.
//
// Thread-safe; streams may outlive the recognizer.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "asr/recognizer.h"
#include "core/result.h"
#include "remote/backend.h"

namespace scribepod::asr {

struct RemoteAsrParams {
  // Server root, e.g. "https://api.openai.com" or "http://10.0.0.5:8080". A
  // trailing "/v1" (the OpenAI SDKs' habit) is accepted and not doubled.
  std::string base_url;
  std::string api_key;  // sent as "Authorization: Bearer ..." when set; never logged
  std::string model = "whisper-1";
  std::string language;  // used when a request names none; "" or "auto" lets the server detect
  remote::ClientOptions timeouts{.connect_timeout = std::chrono::seconds(5),
                                 .total_timeout = std::chrono::seconds(120),
                                 .max_response_bytes = 8 * 1024 * 1024};
  remote::RetryPolicy retry = remote::RetryPolicy::default_policy();
  remote::BreakerOptions breaker = remote::BreakerOptions::default_options();
  remote::RetryHooks retry_hooks{};         // tests only: injectable sleep and randomness
  std::string backend_name = "remote-asr";  // in logs, errors and metrics
  // Longer audio fails with kPayloadTooLarge before any upload. OpenAI takes
  // files up to 25 MB, about 13 minutes of 16 kHz PCM16.
  double max_audio_s = 600;

  static RemoteAsrParams default_params() { return {}; }
};

// Fails with kInvalidConfig when base_url is not an http(s) URL, the model is
// empty or a limit is out of range. Makes no network call: an unreachable
// server shows at the first request (and in the breaker's state).
Result<std::unique_ptr<Recognizer>> make_remote_recognizer(const RemoteAsrParams& params);

// The ISO 639-1 code for a language as whisper names it in verbose_json
// ("english" -> "en"); a value that already is a code, or is unknown, is
// returned lowercased as it came.
std::string whisper_language_code(std::string_view language);

}  // namespace scribepod::asr
