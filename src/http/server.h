// Server: an HTTP/1.1 server on Boost.Asio/Beast with one C++20 coroutine
// per connection.
//
// Limits and timeouts come from ServerOptions and are enforced here:
// - at most `max_connections` open connections; extras get a 503 and close;
// - request headers over `max_header_bytes` get 431, bodies over
//   `max_body_bytes` get 413, malformed requests get 400; each then closes;
// - a request must arrive whole within `read_timeout` of its first byte, and
//   a keep-alive connection may sit idle for `idle_timeout`, so a slow or
//   silent client cannot hold a connection;
// - a response must be written within `write_timeout`.
//
// Shutdown (SIGINT/SIGTERM when run() handles signals, or stop()) stops
// accepting, closes idle connections, lets in-flight requests finish with
// `Connection: close`, and after `shutdown_grace` closes whatever remains.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "http/middleware.h"
#include "http/router.h"

namespace scribepod::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4200;  // 0 picks a free port (see Server::port())
  int threads = 1;
  std::size_t max_connections = 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  bool production = false;
  bool handle_signals = true;
  // Called once, on an I/O thread, when a graceful shutdown begins: upgraded
  // (WebSocket) connections are no longer the server's to close, so their
  // owner uses this to tell them. They count as active until they end, so
  // the drain waits up to `shutdown_grace` for them.
  std::function<void()> on_shutdown;
};

class Server {
 public:
  Server(ServerOptions options, const Router& router, const MiddlewareChain& chain);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Fails with kIo naming the address when it can't.
  Status listen();
  // The bound port (after listen()).
  std::uint16_t port() const;
  // Serves on `threads` threads until stopped and drained.
  void run();
  // Starts a graceful shutdown; safe from any thread.
  void stop();

  std::size_t active_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scribepod::http
