// Helpers for the acceptance suite: real speech encoded at test time, the
// multipart bodies the original page sent, and FakeBackend, a loopback HTTP
// server that stands in for a remote recogniser or chat server (a real
// process-level peer: the binary under test talks TCP to it).
//
// FakeBackend answers every request with one canned response, or, in
// kSilent mode, accepts the connection and never answers (a hung backend).
// It counts the requests it saw. Its destructor stops the thread and closes
// every socket.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {

inline constexpr const char* kSpeechDir = "/usr/share/pocketsphinx/test/data";
inline constexpr const char* kBoundary = "----scribepod-acceptance";

// `raw` (a 16 kHz s16le file under kSpeechDir) converted by ffmpeg with
// `args` into dir/name; empty when ffmpeg failed.
std::string encode_speech(const TempDir& dir, const std::string& raw, const std::string& name,
                          const std::string& args = "");

// A multipart/form-data body with one file field, and its Content-Type.
std::string multipart(const std::string& field, const std::string& data,
                      const std::string& type = "audio/wav");
Headers form_headers(const std::string& session = {});

// The JSON log lines of `server` whose "message" is `message`.
std::vector<nlohmann::json> log_records(const ServerProcess& server, const std::string& message);

class FakeBackend {
 public:
  enum class Mode { kAnswer, kSilent };
  FakeBackend(Mode mode, unsigned status = 200, std::string body = "{}",
              std::string content_type = "application/json");
  ~FakeBackend();
  FakeBackend(const FakeBackend&) = delete;
  FakeBackend& operator=(const FakeBackend&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  void serve();
  void handle(int fd);

  Mode mode_;
  std::string response_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex held_mu_;
  std::vector<int> held_;  // connections kept open (kSilent) or being served
  std::thread thread_;
};

}  // namespace scribepod::testing
