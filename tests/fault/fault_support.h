// Helpers shared by the fault-injection tests: real speech as WAV, multipart
// bodies, reading one sample of /metrics, timing, and a server restart on
// the same data directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// /usr/share/pocketsphinx/test/data/<name> (16 kHz s16le mono), "" when absent.
std::string read_speech(const std::string& name);
// The bytes of a file, "" when it cannot be read.
std::string read_file(const std::string& path);

// A multipart/form-data body with one file part, and its headers.
std::string multipart_body(const std::string& field, const std::string& data,
                           const std::string& type = "audio/wav");
Headers multipart_headers(const std::string& session = {});

// The value of the /metrics sample `name{labels}` (labels as written, e.g.
// `backend="openai"`), nullopt when absent.
std::optional<double> metric_value(std::uint16_t port, const std::string& name,
                                   const std::string& labels);

// Repo root (for prompts/).
std::string source_dir();

// POST /conversation?chunk=1 with a WAV of `pcm` and no session header: a new
// session with one utterance. Returns the response and how long it took.
struct TimedResponse {
  HttpResponse response;
  double ms = 0;
  bool transport_error = false;
  std::string error;
};
TimedResponse post_new_utterance(std::uint16_t port, const std::string& wav);

}  // namespace scribepod::testing
