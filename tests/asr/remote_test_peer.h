// FakeTranscriptionServer: a TEST DOUBLE of an OpenAI-compatible
// transcription server (POST /v1/audio/transcriptions), on 127.0.0.1 over
// real sockets, for the remote recognizer's tests.
//
// It does what a strict real server does with the upload: checks the bearer
// key (401 otherwise), parses the multipart form, and validates the file
// part as a WAV (RIFF/WAVE, PCM 16-bit, mono, 16 kHz, data size consistent;
// 400 otherwise). Then it answers with the next scripted reply (status,
// headers, body), or with a default verbose_json when none is queued.
// Every upload is recorded with its form fields and decoded samples.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "../remote/test_peer.h"

namespace scribepod::testing {

struct TranscriptionUpload {
  std::string path;
  std::string authorization;
  std::vector<std::pair<std::string, std::string>> fields;  // non-file fields, in order
  std::string file_name;
  std::string file_content_type;
  bool wav_valid = false;
  std::string wav_problem;  // why wav_valid is false
  int sample_rate = 0;
  int channels = 0;
  int bits = 0;
  std::vector<std::int16_t> samples;

  std::string field(const std::string& name) const;  // first value or ""
  std::vector<std::string> all(const std::string& name) const;
};

class FakeTranscriptionServer {
 public:
  explicit FakeTranscriptionServer(std::string api_key);

  std::string url() const { return peer_.url(); }
  void push(ScriptedResponse reply);
  std::vector<TranscriptionUpload> uploads() const;
  std::size_t request_count() const { return peer_.request_count(); }

  static constexpr const char* kDefaultReply =
      R"({"task":"transcribe","language":"english","duration":2.0,"text":" default",)"
      R"("segments":[{"id":0,"start":0.0,"end":2.0,"text":" default"}]})";

 private:
  ScriptedResponse handle(const ReceivedRequest& request);

  std::string api_key_;
  mutable std::mutex mu_;
  std::deque<ScriptedResponse> replies_;
  std::vector<TranscriptionUpload> uploads_;
  TestPeer peer_;  // last: its threads call handle() until it is destroyed
};

}  // namespace scribepod::testing
