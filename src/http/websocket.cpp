#include "http/websocket.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

namespace scribepod::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {
// Bytes asked of one read: large enough for typical audio frames, small
// enough that an oversized message is noticed after at most this much more.
constexpr std::size_t kReadChunk = 16 * 1024;
}  // namespace

net::awaitable<Result<std::shared_ptr<WebSocketConnection>>> WebSocketConnection::accept(
    beast::tcp_stream stream, const Request& req, WebSocketOptions options,
    std::vector<std::pair<std::string, std::string>> extra_headers) {
  Stream ws(std::move(stream));
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = options.handshake_timeout;
  timeouts.idle_timeout = options.keepalive_timeout;
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  websocket::permessage_deflate pmd;
  pmd.server_enable = false;
  pmd.client_enable = false;
  ws.set_option(pmd);
  // The size limit is enforced in read_loop, so the owner can say why
  // before the 1009 close; Beast's own check would close without a word.
  ws.read_message_max(0);
  ws.set_option(websocket::stream_base::decorator(
      [headers = std::move(extra_headers)](websocket::response_type& res) {
        for (const auto& [name, value] : headers) res.set(name, value);
      }));
  beast::error_code ec;
  co_await ws.async_accept(req, net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    if (ec.category() == websocket::make_error_code(websocket::error::no_connection).category()) {
      co_return Error::bad_request(fmt::format("bad WebSocket upgrade: {}", ec.message()));
    }
    co_return Error::io(fmt::format("WebSocket upgrade failed: {}", ec.message()));
  }
  co_return std::make_shared<WebSocketConnection>(std::move(ws), std::move(options));
}

WebSocketConnection::WebSocketConnection(Stream ws, WebSocketOptions options)
    : ws_(std::move(ws)),
      opt_(std::move(options)),
      executor_(ws_.get_executor()),
      wake_(executor_),
      idle_(executor_),
      deadline_(executor_),
      writer_exit_(executor_) {}

void WebSocketConnection::send(std::string payload, bool droppable, bool binary) {
  // dispatch, not post: a handler sending from the strand (e.g. just before
  // a close) gets its message queued at once, ahead of the close.
  net::dispatch(executor_, [self = shared_from_this(),
                            m = Outgoing{std::move(payload), droppable, binary}]() mutable {
    self->enqueue(std::move(m));
  });
}

void WebSocketConnection::close(int code, std::string reason) {
  net::dispatch(executor_, [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
    self->request_close(code, std::move(reason));
  });
}

void WebSocketConnection::abort_after(std::chrono::milliseconds after) {
  net::dispatch(executor_, [self = shared_from_this(), after] { self->arm_deadline(after); });
}

WebSocketStats WebSocketConnection::stats() const {
  return {received_.load(), sent_.load(), dropped_.load()};
}

void WebSocketConnection::enqueue(Outgoing m) {
  if (ended_ || read_ended_ || close_request_) return;
  if (queue_.size() >= opt_.max_queued_messages) {
    const auto victim =
        std::find_if(queue_.begin(), queue_.end(), [](const Outgoing& o) { return o.droppable; });
    if (victim != queue_.end()) {
      queue_.erase(victim);
      queue_changed(-1);
    } else if (!m.droppable) {
      // Nothing left to sacrifice: the peer is not reading.
      request_close(opt_.overflow_close_code, "send queue overflow");
      return;
    }
    dropped_.fetch_add(1);
    if (handler_ != nullptr) handler_->on_dropped(1);
    if (victim == queue_.end()) return;  // the new message was the one dropped
  }
  queue_.push_back(std::move(m));
  queue_changed(1);
  wake_writer();
}

void WebSocketConnection::queue_changed(std::int64_t delta) const {
  if (opt_.on_queue_change && delta != 0) opt_.on_queue_change(delta);
}

void WebSocketConnection::request_close(int code, std::string reason) {
  if (ended_ || read_ended_ || close_request_) return;
  close_request_.emplace(code, std::move(reason));
  arm_deadline(opt_.close_timeout);
  wake_writer();
}

void WebSocketConnection::arm_deadline(std::chrono::milliseconds after) {
  if (ended_) return;
  const auto at = std::chrono::steady_clock::now() + after;
  if (at >= deadline_at_) return;  // an earlier deadline stands
  deadline_at_ = at;
  deadline_.expires_at(at);
  deadline_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
    if (ec || self->ended_) return;
    // Closing the socket fails every pending operation, so run() returns.
    beast::error_code ignored;
    beast::get_lowest_layer(self->ws_).socket().close(ignored);
  });
}

void WebSocketConnection::wake_writer() { wake_.cancel(); }

net::awaitable<CloseInfo> WebSocketConnection::run(WebSocketHandler& handler) {
  handler_ = &handler;
  auto self = shared_from_this();
  idle_.expires_after(opt_.idle_timeout);
  net::co_spawn(
      executor_, [self]() -> net::awaitable<void> { co_await self->write_loop(); }, net::detached);
  net::co_spawn(
      executor_, [self]() -> net::awaitable<void> { co_await self->idle_watch(); }, net::detached);

  co_await read_loop();
  read_ended_ = true;
  idle_.cancel();
  wake_writer();
  beast::error_code ec;
  while (!writer_done_) {
    writer_exit_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await writer_exit_.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
  ended_ = true;
  deadline_.cancel();
  handler_ = nullptr;
  queue_changed(-static_cast<std::int64_t>(queue_.size()));
  queue_.clear();
  co_return info_;
}

net::awaitable<void> WebSocketConnection::read_loop() {
  beast::flat_buffer buffer;
  bool oversized = false;  // the message being read is over the limit
  for (;;) {
    beast::error_code ec;
    const bool discard = oversized || close_request_.has_value();
    const std::size_t room =
        discard ? kReadChunk : std::min(kReadChunk, opt_.read_message_max + 1 - buffer.size());
    co_await ws_.async_read_some(buffer, room, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      // When this side closed first, info_ already holds its code.
      if (ec == websocket::error::closed && !close_sent_) {
        const auto& peer = ws_.reason();
        info_.by_peer = true;
        info_.code = static_cast<int>(peer.code);
        info_.reason = std::string(peer.reason.data(), peer.reason.size());
      }
      co_return;
    }
    if (discard) {
      buffer.clear();
      if (ws_.is_message_done()) oversized = false;
      continue;
    }
    if (buffer.size() > opt_.read_message_max) {
      buffer.clear();
      oversized = !ws_.is_message_done();
      if (handler_ != nullptr) handler_->on_closing(close_code::kTooBig);
      request_close(close_code::kTooBig, "message too big");
      continue;
    }
    if (!ws_.is_message_done()) continue;
    received_.fetch_add(1);
    idle_.expires_after(opt_.idle_timeout);
    const auto data = buffer.cdata();
    if (ws_.got_text()) {
      handler_->on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
    } else {
      handler_->on_binary(std::span<const std::uint8_t>(
          static_cast<const std::uint8_t*>(data.data()), data.size()));
    }
    buffer.clear();
  }
}

net::awaitable<void> WebSocketConnection::write_loop() {
  beast::error_code ec;
  for (;;) {
    while (queue_.empty() && !close_request_ && !read_ended_) {
      wake_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await wake_.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    if (read_ended_) break;  // the peer closed or vanished: nothing can be sent
    if (!queue_.empty()) {
      Outgoing m = std::move(queue_.front());
      queue_.pop_front();
      queue_changed(-1);
      if (!m.binary && opt_.before_write) opt_.before_write(m.payload);
      ws_.text(!m.binary);
      co_await ws_.async_write(net::buffer(m.payload), net::redirect_error(net::use_awaitable, ec));
      if (ec) break;
      sent_.fetch_add(1);
      continue;
    }
    // Queue drained and a close was asked for.
    close_sent_ = true;
    info_.code = close_request_->first;
    info_.reason = close_request_->second;
    const websocket::close_reason reason(static_cast<websocket::close_code>(close_request_->first),
                                         close_request_->second);
    co_await ws_.async_close(reason, net::redirect_error(net::use_awaitable, ec));
    break;
  }
  writer_done_ = true;
  writer_exit_.cancel();
  if (!read_ended_) {
    // A failed write or a finished close: make sure the reader stops too.
    arm_deadline(ec ? std::chrono::milliseconds(0) : opt_.close_timeout);
  }
}

net::awaitable<void> WebSocketConnection::idle_watch() {
  beast::error_code ec;
  for (;;) {
    co_await idle_.async_wait(net::redirect_error(net::use_awaitable, ec));
    if (read_ended_ || close_request_) co_return;
    if (idle_.expiry() > std::chrono::steady_clock::now()) continue;  // reset by a message
    if (handler_ != nullptr) handler_->on_closing(close_code::kIdleTimeout);
    request_close(close_code::kIdleTimeout, "idle timeout");
    co_return;
  }
}

}  // namespace scribepod::http
