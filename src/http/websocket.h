// WebSocketConnection: one server-side WebSocket (RFC 6455) over a connection
// the HTTP server handed to an upgrade route, with explicit limits.
//
// - Incoming messages are read by one coroutine and handed to a
//   WebSocketHandler on the connection's strand, one at a time, in order.
// - A message over `read_message_max` bytes is not delivered: the handler
//   hears on_closing(1009) and the connection closes with 1009. No complete
//   message for `idle_timeout` closes it with 4408 the same way. Protocol
//   pings are answered, and sent when the peer is quiet (keepalive); a peer
//   that answers nothing for `keepalive_timeout` is dropped.
// - Outgoing messages go through one bounded queue, written in order by one
//   writer coroutine. send() and close() are safe from any thread. When the
//   queue is full, droppable messages are dropped first (the oldest queued
//   one, else the new one) and counted; a queue full of undroppable ones
//   means the peer is not reading: the connection closes with
//   `overflow_close_code` (without on_closing).
// - close(code, reason) sends what is queued, then the close frame. A close
//   handshake, or a write, that does not finish within `close_timeout` after
//   close() ends the connection without one.
// - permessage-deflate is off (compression of small JSON and PCM costs more
//   than it saves and widens the attack surface).
// It knows nothing of what the messages mean.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/message.h"

namespace scribepod::http {

// Close codes this layer uses (RFC 6455 section 7.4, plus 4408 in the
// private range, after HTTP 408).
namespace close_code {
inline constexpr int kNormal = 1000;
inline constexpr int kGoingAway = 1001;
inline constexpr int kPolicy = 1008;
inline constexpr int kTooBig = 1009;
inline constexpr int kTryAgainLater = 1013;
inline constexpr int kIdleTimeout = 4408;
}  // namespace close_code

struct WebSocketOptions {
  std::size_t read_message_max = 64 * 1024;        // over it: close 1009
  std::chrono::milliseconds idle_timeout{30'000};  // no message: close 4408
  // Pings are sent after half of this without any data from the peer; no
  // data (pong included) for all of it drops the connection.
  std::chrono::milliseconds keepalive_timeout{60'000};
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds close_timeout{5'000};
  std::size_t max_queued_messages = 64;  // outgoing, not yet written
  int overflow_close_code = close_code::kTryAgainLater;
  // Called by the writer just before a text message is written, in the
  // order they are written (after drops), e.g. to number them.
  std::function<void(std::string& payload)> before_write;
  // Called on the connection's strand each time the outgoing queue grows or
  // shrinks, with the change (+1 queued; -1 written or dropped; -n for what
  // was still queued when the connection ended), e.g. to keep a gauge.
  std::function<void(std::int64_t delta)> on_queue_change;

  static WebSocketOptions default_options() { return {}; }
};

// What the connection tells its owner. Called on the connection's strand,
// never concurrently; may call send() and close().
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void on_text(std::string_view message) = 0;
  virtual void on_binary(std::span<const std::uint8_t> message) = 0;
  // The connection is about to close itself with `code` (1009 or 4408).
  // Messages sent from here go out before the close frame.
  virtual void on_closing(int /*code*/) {}
  // `count` droppable messages were just dropped because the queue was full.
  virtual void on_dropped(std::size_t /*count*/) {}
};

struct WebSocketStats {
  std::uint64_t received = 0;  // messages delivered to the handler
  std::uint64_t sent = 0;      // messages written
  std::uint64_t dropped = 0;   // droppable messages dropped
};

// How a connection ended.
struct CloseInfo {
  int code = 0;          // the close code sent or received; 0 when none (dropped)
  bool by_peer = false;  // the peer closed first
  std::string reason;
};

class WebSocketConnection : public std::enable_shared_from_this<WebSocketConnection> {
 public:
  using Stream = boost::beast::websocket::stream<boost::beast::tcp_stream>;

  // Completes the upgrade: answers `req` with 101 (plus `extra_headers`).
  // kBadRequest when the request is not a valid upgrade; kIo when the
  // connection fails meanwhile.
  static boost::asio::awaitable<Result<std::shared_ptr<WebSocketConnection>>> accept(
      boost::beast::tcp_stream stream, const Request& req, WebSocketOptions options,
      std::vector<std::pair<std::string, std::string>> extra_headers = {});

  WebSocketConnection(Stream ws, WebSocketOptions options);

  // Reads and writes until the connection is closed, then returns how it
  // ended. Call once; `handler` must outlive it and is not called after.
  boost::asio::awaitable<CloseInfo> run(WebSocketHandler& handler);

  // Queues a message (text unless `binary`). Any thread; ignored once
  // close() was called or the connection ended.
  void send(std::string payload, bool droppable = false, bool binary = false);
  // Sends what is queued, then closes with `code`. Any thread; the first
  // call wins.
  void close(int code, std::string reason = {});
  // Ends the connection without a handshake once `after` has passed (now
  // when zero), unless it has ended by then. Any thread.
  void abort_after(std::chrono::milliseconds after);

  WebSocketStats stats() const;
  const boost::asio::any_io_executor& executor() const { return executor_; }

 private:
  struct Outgoing {
    std::string payload;
    bool droppable = false;
    bool binary = false;
  };
  void enqueue(Outgoing m);
  void queue_changed(std::int64_t delta) const;
  void request_close(int code, std::string reason);
  void arm_deadline(std::chrono::milliseconds after);
  void wake_writer();
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<void> idle_watch();

  Stream ws_;
  WebSocketOptions opt_;
  boost::asio::any_io_executor executor_;
  boost::asio::steady_timer wake_;         // the writer sleeps on it
  boost::asio::steady_timer idle_;         // reset by every message
  boost::asio::steady_timer deadline_;     // hard end after close()/abort_after()
  boost::asio::steady_timer writer_exit_;  // run() waits on it for the writer
  std::chrono::steady_clock::time_point deadline_at_ = std::chrono::steady_clock::time_point::max();
  WebSocketHandler* handler_ = nullptr;
  std::deque<Outgoing> queue_;
  std::optional<std::pair<int, std::string>> close_request_;
  bool read_ended_ = false;
  bool writer_done_ = false;
  bool ended_ = false;
  bool close_sent_ = false;
  CloseInfo info_;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace scribepod::http
