// FaultPeer: a TEST DOUBLE of an OpenAI-compatible backend (POST
// /v1/chat/completions and POST /v1/audio/transcriptions) on 127.0.0.1, for
// the fault-injection tests. A test switches its behaviour while the real
// `scribepod` binary talks to it:
//   healthy()        answers each request correctly (valid thoughts JSON in a
//                    chat completion; a verbose_json transcript)
//   down()           stops listening: connections are refused, and the port
//                    stays bound to the peer (no other server can take it);
//                    the other calls listen on it again
//   slow(d)          answers correctly, but only after `d`
//   fail(s, ra)      answers status `s` with an OpenAI-style error body and,
//                    when `ra` is not empty, a Retry-After header
// Every request whose head arrived is counted (hits()), before it is
// answered, so attempts that the client abandoned still count. Each
// connection gets one response and is closed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace scribepod::testing {

class FaultPeer {
 public:
  // Binds a loopback port at once and, unless `start_down`, listens on it
  // (healthy). Throws std::runtime_error if it cannot.
  explicit FaultPeer(bool start_down = false);
  ~FaultPeer();
  FaultPeer(const FaultPeer&) = delete;
  FaultPeer& operator=(const FaultPeer&) = delete;

  int port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"

  void healthy();
  void down();
  void slow(std::chrono::milliseconds delay);
  void fail(int status, std::string retry_after = {});

  std::size_t hits() const { return hits_.load(); }

  // The transcript that healthy() serves.
  static constexpr const char* kTranscript = "go forward ten meters";

 private:
  enum class Mode { kHealthy, kSlow, kFail };
  struct Behaviour {
    Mode mode = Mode::kHealthy;
    std::chrono::milliseconds delay{0};
    int status = 200;
    std::string retry_after;
  };

  void set(Behaviour b);
  int bind_port();    // binds port_ (0 = any, then set) without listening
  void listen_now();  // listens on fd_ and starts the accept loop
  void stop_listening();
  void accept_loop(int listen_fd);
  void serve(int fd);

  int port_ = 0;
  int fd_ = -1;  // bound to port_; listening while accepting_
  std::thread acceptor_;
  std::atomic<bool> accepting_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> hits_{0};

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;  // wakes slow answers at destruction
  Behaviour behaviour_;
  std::vector<std::thread> connections_;
};

}  // namespace scribepod::testing
