// WebSocketConnection behind the real http::Server on a free loopback port,
// driven by a Beast WebSocket client: limits (1009), the idle timeout
// (4408), keepalive pings, ordering, dropping droppable messages under a full
// queue, overflow, close codes, and sends from many threads.
#include "http/websocket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "http/server.h"

namespace scribepod::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// What the server side saw, shared between the server's threads and the test.
struct ServerSide {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<CloseInfo> closed;
  WebSocketStats stats;
  std::vector<int> closing_codes;
  std::size_t dropped_reported = 0;

  CloseInfo wait_closed() {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, 5s, [&] { return closed.has_value(); }))
        << "the server-side connection did not end";
    return closed.value_or(CloseInfo{-1, false, "not closed"});
  }
};

// The handler under test's control: echoes messages, and obeys a few text
// commands so each test can make the server do one thing.
class CommandHandler final : public WebSocketHandler {
 public:
  CommandHandler(std::shared_ptr<WebSocketConnection> conn, ServerSide& side)
      : conn_(std::move(conn)), side_(side) {}
  ~CommandHandler() override {
    for (auto& t : threads_) t.join();
  }

  void on_text(std::string_view message) override {
    std::istringstream in{std::string(message)};
    std::string cmd;
    in >> cmd;
    if (cmd == "close") {
      int code = 0;
      std::string reason;
      in >> code >> reason;
      conn_->close(code, reason);
    } else if (cmd == "burst") {  // burst N, then close 1000
      int n = 0;
      in >> n;
      for (int i = 1; i <= n; ++i) conn_->send("m" + std::to_string(i));
      conn_->close(1000, "done");
    } else if (cmd == "flood") {  // U undroppable, D droppable, U undroppable
      int u = 0;
      int d = 0;
      in >> u >> d;
      for (int i = 1; i <= u; ++i) conn_->send("u" + std::to_string(i));
      for (int i = 1; i <= d; ++i) conn_->send("d" + std::to_string(i), /*droppable=*/true);
      for (int i = u + 1; i <= 2 * u; ++i) conn_->send("u" + std::to_string(i));
    } else if (cmd == "threads") {  // threads T N: T threads send N each
      int t = 0;
      int n = 0;
      in >> t >> n;
      for (int k = 0; k < t; ++k) {
        threads_.emplace_back([conn = conn_, k, n] {
          for (int i = 0; i < n; ++i) conn->send(fmt_msg(k, i));
        });
      }
    } else if (cmd == "abort") {
      conn_->abort_after(0ms);
    } else {
      conn_->send(std::string(message));
    }
  }
  void on_binary(std::span<const std::uint8_t> message) override {
    conn_->send(std::string(reinterpret_cast<const char*>(message.data()), message.size()), false,
                /*binary=*/true);
  }
  void on_closing(int code) override {
    conn_->send("closing " + std::to_string(code));
    std::lock_guard lock(side_.mu);
    side_.closing_codes.push_back(code);
  }
  void on_dropped(std::size_t count) override {
    std::lock_guard lock(side_.mu);
    side_.dropped_reported += count;
  }
  static std::string fmt_msg(int thread, int i) {
    return "t" + std::to_string(thread) + ":" + std::to_string(i);
  }

 private:
  std::shared_ptr<WebSocketConnection> conn_;
  ServerSide& side_;
  std::vector<std::thread> threads_;
};

class WebSocketTest : public ::testing::Test {
 protected:
  void start(WebSocketOptions opts) {
    router_.add_upgrade(
        "/ws",
        [this, opts](beast::tcp_stream stream, Request req, Context) -> net::awaitable<void> {
          std::vector<std::pair<std::string, std::string>> headers;
          headers.emplace_back("X-Test", "yes");
          auto conn = co_await WebSocketConnection::accept(std::move(stream), req, opts,
                                                           std::move(headers));
          if (!conn) co_return;
          CommandHandler handler(*conn, side_);
          const CloseInfo info = co_await (*conn)->run(handler);
          std::lock_guard lock(side_.mu);
          side_.closed = info;
          side_.stats = (*conn)->stats();
          side_.cv.notify_all();
        });
    ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.handle_signals = false;
    so.threads = 2;
    so.shutdown_grace = 2s;
    server_ = std::make_unique<Server>(so, router_, chain_);
    ASSERT_TRUE(server_->listen().ok());
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  // A blocking client whose socket reads give up after 5 s, so a server that
  // never answers fails the test instead of hanging it.
  std::unique_ptr<websocket::stream<tcp::socket>> connect(websocket::response_type* res = nullptr) {
    auto ws = std::make_unique<websocket::stream<tcp::socket>>(ioc_);
    ws->next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    timeval tv{5, 0};
    setsockopt(ws->next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    websocket::response_type ignored;
    ws->handshake(res != nullptr ? *res : ignored, "localhost", "/ws");
    return ws;
  }
  static std::string read_text(websocket::stream<tcp::socket>& ws, beast::error_code& ec) {
    beast::flat_buffer buf;
    ws.read(buf, ec);
    return beast::buffers_to_string(buf.data());
  }
  static std::string read_text(websocket::stream<tcp::socket>& ws) {
    beast::error_code ec;
    std::string s = read_text(ws, ec);
    EXPECT_FALSE(ec) << ec.message();
    return s;
  }
  // Reads until the connection ends; returns the messages and the final error.
  static std::vector<std::string> read_all(websocket::stream<tcp::socket>& ws,
                                           beast::error_code& ec) {
    std::vector<std::string> out;
    for (;;) {
      std::string s = read_text(ws, ec);
      if (ec) return out;
      out.push_back(std::move(s));
    }
  }

  net::io_context ioc_;
  Router router_;
  MiddlewareChain chain_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  ServerSide side_;
};

TEST_F(WebSocketTest, EchoesTextAndBinaryInOrderWithHeaders) {
  start(WebSocketOptions::default_options());
  websocket::response_type res;
  auto ws = connect(&res);
  EXPECT_EQ(res["X-Test"], "yes");
  EXPECT_EQ(res[beast::http::field::sec_websocket_extensions], "")
      << "permessage-deflate must be off";
  // Ten pairs at a time: the server holds at most max_queued_messages (64)
  // echoes it has not written yet, and under a sanitizer it can read 100
  // messages faster than it writes their echoes (it then closes with 1013,
  // as it should for a client that stops reading).
  for (int window = 0; window < 50; window += 10) {
    for (int i = window; i < window + 10; ++i) {
      ws->text(true);
      ws->write(net::buffer("text " + std::to_string(i)));
      ws->binary(true);
      const std::string bin = std::string("\0\1\2", 3) + std::to_string(i);
      ws->write(net::buffer(bin));
    }
    for (int i = window; i < window + 10; ++i) {
      EXPECT_EQ(read_text(*ws), "text " + std::to_string(i));
      EXPECT_TRUE(ws->got_text());
      EXPECT_EQ(read_text(*ws), std::string("\0\1\2", 3) + std::to_string(i));
      EXPECT_TRUE(ws->got_binary());
    }
  }
  ws->close(websocket::close_code::normal);
  const CloseInfo info = side_.wait_closed();
  EXPECT_EQ(info.code, 1000);
  EXPECT_TRUE(info.by_peer);
  EXPECT_EQ(side_.stats.received, 100u);
  EXPECT_EQ(side_.stats.sent, 100u);
}

TEST_F(WebSocketTest, MessageAtTheLimitPassesOneByteMoreCloses1009) {
  WebSocketOptions opts;
  opts.read_message_max = 1000;
  start(opts);
  auto ws = connect();
  ws->binary(true);
  ws->write(net::buffer(std::string(1000, 'a')));
  EXPECT_EQ(read_text(*ws).size(), 1000u);
  // Sent in fragments, so the limit is on the message, not on a frame.
  ws->auto_fragment(true);
  ws->write_buffer_bytes(256);
  ws->write(net::buffer(std::string(1001, 'b')));
  beast::error_code ec;
  EXPECT_EQ(read_text(*ws, ec), "closing 1009") << "the handler speaks before the close";
  read_text(*ws, ec);
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(ws->reason().code, 1009);
  EXPECT_EQ(side_.wait_closed().code, 1009);
  EXPECT_EQ(side_.stats.received, 1u) << "the oversized message is never delivered";
}

TEST_F(WebSocketTest, HugeSingleFrameIsRefusedWithoutBufferingIt) {
  WebSocketOptions opts;
  opts.read_message_max = 64 * 1024;
  start(opts);
  auto ws = connect();
  ws->binary(true);
  ws->auto_fragment(false);
  beast::error_code ec;
  ws->write(net::buffer(std::string(4 * 1024 * 1024, 'x')), ec);  // may fail once closed
  EXPECT_EQ(read_text(*ws, ec), "closing 1009");
  read_text(*ws, ec);
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(ws->reason().code, 1009);
  EXPECT_EQ(side_.wait_closed().code, 1009);
}

TEST_F(WebSocketTest, NoMessageForTheIdleTimeoutCloses4408) {
  WebSocketOptions opts;
  opts.idle_timeout = 300ms;
  start(opts);
  auto ws = connect();
  // Messages keep it open well past the timeout...
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(100ms);
    ws->write(net::buffer(std::string("hi")));
    EXPECT_EQ(read_text(*ws), "hi");
  }
  // ...silence closes it.
  const auto quiet_from = std::chrono::steady_clock::now();
  beast::error_code ec;
  EXPECT_EQ(read_text(*ws, ec), "closing 4408");
  read_text(*ws, ec);
  const auto waited = std::chrono::steady_clock::now() - quiet_from;
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(ws->reason().code, 4408);
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2s);
  EXPECT_EQ(side_.wait_closed().code, 4408);
  std::lock_guard lock(side_.mu);
  EXPECT_EQ(side_.closing_codes, std::vector<int>{4408});
}

TEST_F(WebSocketTest, SendsKeepalivePingsToAQuietPeer) {
  WebSocketOptions opts;
  opts.keepalive_timeout = 200ms;
  opts.idle_timeout = 800ms;
  start(opts);
  auto ws = connect();
  int pings = 0;
  ws->control_callback([&](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::ping) ++pings;
  });
  // The client answers pings while it reads, so only the idle timeout ends
  // the connection, not the keepalive.
  beast::error_code ec;
  EXPECT_EQ(read_text(*ws, ec), "closing 4408");
  read_text(*ws, ec);
  EXPECT_EQ(ws->reason().code, 4408);
  EXPECT_GE(pings, 2);
}

TEST_F(WebSocketTest, CloseSendsQueuedMessagesThenTheCodeAndReason) {
  start(WebSocketOptions::default_options());
  auto ws = connect();
  ws->write(net::buffer(std::string("burst 20")));
  beast::error_code ec;
  const auto got = read_all(*ws, ec);
  ASSERT_EQ(got.size(), 20u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], "m" + std::to_string(i + 1));
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(ws->reason().code, 1000);
  EXPECT_EQ(std::string(ws->reason().reason.data(), ws->reason().reason.size()), "done");
  const CloseInfo info = side_.wait_closed();
  EXPECT_EQ(info.code, 1000);
  EXPECT_FALSE(info.by_peer);
}

TEST_F(WebSocketTest, CustomCloseCodeReachesTheClient) {
  start(WebSocketOptions::default_options());
  auto ws = connect();
  ws->write(net::buffer(std::string("close 1007 bad")));
  beast::error_code ec;
  read_text(*ws, ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(ws->reason().code, 1007);
  EXPECT_EQ(side_.wait_closed().code, 1007);
}

TEST_F(WebSocketTest, FullQueueDropsOldestDroppableFirstAndKeepsTheRest) {
  WebSocketOptions opts;
  opts.max_queued_messages = 16;
  std::atomic<int> stamp{0};
  opts.before_write = [&stamp](std::string& payload) {
    payload = std::to_string(++stamp) + ":" + payload;
  };
  // The queue's depth as on_queue_change reports it (called on one strand).
  std::atomic<std::int64_t> depth{0};
  std::atomic<std::int64_t> deepest{0};
  opts.on_queue_change = [&](std::int64_t delta) {
    depth += delta;
    deepest = std::max(deepest.load(), depth.load());
  };
  start(opts);
  auto ws = connect();
  // All 110 are queued from one handler call, before the writer can run, so
  // the outcome is exact: 5 + 11 fill the queue, each later droppable evicts
  // the oldest droppable (89), and the last 5 undroppable evict 5 more.
  ws->write(net::buffer(std::string("flood 5 100")));
  std::vector<std::string> got;
  for (int i = 0; i < 16; ++i) got.push_back(read_text(*ws));
  const std::vector<std::string> want = {"1:u1",  "2:u2",  "3:u3",  "4:u4",   "5:u5",    "6:d95",
                                         "7:d96", "8:d97", "9:d98", "10:d99", "11:d100", "12:u6",
                                         "13:u7", "14:u8", "15:u9", "16:u10"};
  EXPECT_EQ(got, want) << "undroppable all delivered in order, seq stamped gap-free";
  ws->close(websocket::close_code::normal);
  side_.wait_closed();
  EXPECT_EQ(side_.stats.dropped, 94u);
  EXPECT_EQ(deepest.load(), 16) << "the reported depth reaches the bound and never passes it";
  EXPECT_EQ(depth.load(), 0) << "every queued message was reported gone";
  std::lock_guard lock(side_.mu);
  EXPECT_EQ(side_.dropped_reported, 94u);
}

TEST_F(WebSocketTest, QueueFullOfUndroppableMessagesClosesWithTheOverflowCode) {
  WebSocketOptions opts;
  opts.max_queued_messages = 4;
  start(opts);
  auto ws = connect();
  ws->write(net::buffer(std::string("flood 5 0")));  // 10 undroppable into 4 slots
  beast::error_code ec;
  const auto got = read_all(*ws, ec);
  EXPECT_EQ(got, (std::vector<std::string>{"u1", "u2", "u3", "u4"}));
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(ws->reason().code, 1013);
  EXPECT_EQ(side_.wait_closed().code, 1013);
}

TEST_F(WebSocketTest, ConcurrentSendsFromManyThreadsKeepEachThreadsOrder) {
  WebSocketOptions opts;
  opts.max_queued_messages = 10'000;
  start(opts);
  auto ws = connect();
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  ws->write(net::buffer("threads " + std::to_string(kThreads) + " " + std::to_string(kEach)));
  std::vector<int> next(kThreads, 0);
  for (int i = 0; i < kThreads * kEach; ++i) {
    const std::string m = read_text(*ws);
    const int t = m[1] - '0';
    ASSERT_GE(t, 0);
    ASSERT_LT(t, kThreads);
    ASSERT_EQ(m, CommandHandler::fmt_msg(t, next[static_cast<std::size_t>(t)]))
        << "out of order for thread " << t;
    ++next[static_cast<std::size_t>(t)];
  }
  ws->close(websocket::close_code::normal);
  EXPECT_EQ(side_.wait_closed().code, 1000);
  EXPECT_EQ(side_.stats.sent, static_cast<std::uint64_t>(kThreads * kEach));
}

TEST_F(WebSocketTest, AbortEndsTheConnectionWithoutAHandshake) {
  start(WebSocketOptions::default_options());
  auto ws = connect();
  ws->write(net::buffer(std::string("abort")));
  beast::error_code ec;
  read_text(*ws, ec);
  EXPECT_TRUE(ec);
  EXPECT_NE(ec, websocket::error::closed) << "no close frame was sent";
  EXPECT_EQ(side_.wait_closed().code, 0);
}

TEST_F(WebSocketTest, ClientVanishingEndsRun) {
  start(WebSocketOptions::default_options());
  auto ws = connect();
  ws->write(net::buffer(std::string("hello")));
  EXPECT_EQ(read_text(*ws), "hello");
  beast::error_code ec;
  ws->next_layer().close(ec);
  const CloseInfo info = side_.wait_closed();
  EXPECT_EQ(info.code, 0);
}

}  // namespace
}  // namespace scribepod::http
