// TEST DOUBLE: a tiny HTTP/1.1 file server on 127.0.0.1:<ephemeral port>,
// standing in for the model hub that can't be reached from the test machine.
// It serves one in-memory body at any path, honours `Range: bytes=N-`
// (206/416) and, for each request in turn, can play a scripted fault. It
// records every request's path and Range header so tests can assert what the
// real downloader (libcurl) asked for. Plain POSIX sockets, one thread, one
// connection at a time, `Connection: close` on every response.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace scribepod::models::testing {

enum class Fault {
  kNone,          // serve correctly
  kCorrupt,       // flip one byte in the middle of the body
  kTruncateHalf,  // announce the full length, send half, close
  kIgnoreRange,   // answer 200 with the whole body even when asked for a range
  kNotFound,      // 404
  kServerError,   // 503
  kStall,         // send headers and 64 KiB, then nothing until the client leaves
  kWrongSize,     // serve a body one byte longer than the real one
};

struct RecordedRequest {
  std::string method;
  std::string path;
  std::string range;  // the Range header value, empty if none
};

class TestDoubleHttpServer {
 public:
  explicit TestDoubleHttpServer(std::string body);
  ~TestDoubleHttpServer();
  TestDoubleHttpServer(const TestDoubleHttpServer&) = delete;
  TestDoubleHttpServer& operator=(const TestDoubleHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;

  // Faults for the next requests, in order; afterwards requests are served
  // correctly.
  void script(std::vector<Fault> faults);
  std::vector<RecordedRequest> requests() const;

 private:
  void serve();
  void handle(int fd);

  std::string body_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::deque<Fault> script_;
  std::vector<RecordedRequest> requests_;
  std::thread thread_;
};

}  // namespace scribepod::models::testing
