// TestPeer: a TEST DOUBLE. A tiny HTTP/1.1 server on 127.0.0.1 (an
// ephemeral port) that plays a remote backend whose behaviour each test
// scripts: status, headers (Retry-After, ...), body, a delay before
// answering, or dropping the connection without a word. It exists so the
// real libcurl client, retry loop and circuit breaker can be exercised over
// real sockets without any outside service.
//
// Responses come from the handler when one is set, else from the queue
// (first in, first out), else the default response. Every request is
// recorded (method, target, lowercased headers, body, arrival time) before
// it is answered, so a test can count attempts even when it times out.
// Each connection gets one response and is closed ("Connection: close").
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace scribepod::testing {

struct ScriptedResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  std::chrono::milliseconds delay{0};  // wait before answering
  bool drop = false;                   // close the connection instead of answering
  bool omit_content_length = false;    // body ends when the connection closes
};

struct ReceivedRequest {
  std::string method;
  std::string target;                          // path and query, as sent
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;                            // de-chunked
  std::chrono::steady_clock::time_point at;

  std::string header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class TestPeer {
 public:
  using Handler = std::function<ScriptedResponse(const ReceivedRequest&)>;

  TestPeer();  // listens at once; throws std::runtime_error if it cannot
  ~TestPeer();
  TestPeer(const TestPeer&) = delete;
  TestPeer& operator=(const TestPeer&) = delete;

  int port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"

  void push(ScriptedResponse response);
  void set_default(ScriptedResponse response);
  void set_handler(Handler handler);

  std::vector<ReceivedRequest> requests() const;
  std::size_t request_count() const;

 private:
  void accept_loop();
  void serve(int fd);
  ScriptedResponse next_response(const ReceivedRequest& request);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  std::deque<ScriptedResponse> queue_;
  ScriptedResponse default_;
  Handler handler_;
  std::vector<ReceivedRequest> received_;
  std::vector<std::thread> connections_;
};

// A loopback port with nothing listening on it (bound, then released).
int unused_port();

}  // namespace scribepod::testing
