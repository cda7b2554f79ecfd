// The server in process, on a free loopback port: keep-alive, HEAD, the
// WebSocket upgrade hook, the connection cap and a graceful stop.
#include "http/server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <thread>

#include "http/request_id.h"

namespace scribepod::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

// A test double for the streaming endpoint: accepts the upgrade and echoes
// text messages until the client closes.
UpgradeHandler echo_websocket() {
  return [](beast::tcp_stream stream, Request req, Context ctx) -> net::awaitable<void> {
    beast::websocket::stream<beast::tcp_stream> ws(std::move(stream));
    beast::error_code ec;
    ws.set_option(beast::websocket::stream_base::decorator(
        [id = ctx.request_id](beast::websocket::response_type& res) {
          res.set("X-Request-Id", id);
        }));
    co_await ws.async_accept(req, net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return;
    for (;;) {
      beast::flat_buffer buf;
      co_await ws.async_read(buf, net::redirect_error(net::use_awaitable, ec));
      if (ec) co_return;
      ws.text(true);
      co_await ws.async_write(buf.data(), net::redirect_error(net::use_awaitable, ec));
      if (ec) co_return;
    }
  };
}

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions opts) {
    router_.add(Verb::get, "/hello",
                [](Request& req, Context&) -> net::awaitable<Result<Response>> {
                  co_return make_response(req, StatusCode::ok, "hello world", "text/plain");
                });
    router_.add(
        Verb::post, "/slow", [](Request& req, Context&) -> net::awaitable<Result<Response>> {
          net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(300));
          co_await t.async_wait(net::use_awaitable);
          co_return make_response(req, StatusCode::ok, "done:" + req.body(), "text/plain");
        });
    router_.add_upgrade("/ws", echo_websocket());
    chain_.add(std::make_unique<RequestIdMiddleware>());
    opts.host = "127.0.0.1";
    opts.port = 0;
    opts.handle_signals = false;
    opts.threads = 2;
    server_ = std::make_unique<Server>(opts, router_, chain_);
    ASSERT_TRUE(server_->listen().ok());
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  beast::tcp_stream connect() {
    beast::tcp_stream s(ioc_);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    return s;
  }

  beast::http::response<beast::http::string_body> roundtrip(beast::tcp_stream& s, Request req) {
    req.set(beast::http::field::host, "localhost");
    req.prepare_payload();
    beast::http::write(s, req);
    beast::flat_buffer buf;
    beast::http::response<beast::http::string_body> res;
    beast::http::read(s, buf, res);
    return res;
  }

  net::io_context ioc_;
  Router router_;
  MiddlewareChain chain_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start({});
  auto s = connect();
  for (int i = 0; i < 5; ++i) {
    auto res = roundtrip(s, Request{Verb::get, "/hello", 11});
    EXPECT_EQ(res.result(), StatusCode::ok);
    EXPECT_EQ(res.body(), "hello world");
    EXPECT_TRUE(res.keep_alive());
  }
}

TEST_F(ServerTest, HeadHasGetHeadersAndNoBody) {
  start({});
  auto s = connect();
  Request req{Verb::head, "/hello", 11};
  req.set(beast::http::field::host, "localhost");
  beast::http::write(s, req);
  beast::flat_buffer buf;
  beast::http::response_parser<beast::http::empty_body> parser;
  parser.skip(true);  // HEAD: no body follows whatever Content-Length says
  beast::http::read(s, buf, parser);
  EXPECT_EQ(parser.get().result(), StatusCode::ok);
  EXPECT_EQ(parser.get()[beast::http::field::content_length], "11");
  // The connection is still usable: the next response parses cleanly.
  auto res = roundtrip(s, Request{Verb::get, "/hello", 11});
  EXPECT_EQ(res.body(), "hello world");
}

TEST_F(ServerTest, UpgradeHookHandsTheConnectionToTheHandler) {
  start({});
  beast::websocket::stream<beast::tcp_stream> ws(connect());
  beast::websocket::response_type upgrade_res;
  ws.handshake(upgrade_res, "localhost", "/ws");
  EXPECT_EQ(upgrade_res.result(), StatusCode::switching_protocols);
  EXPECT_EQ(upgrade_res["X-Request-Id"].size(), 32u);  // the chain ran first
  ws.write(net::buffer(std::string("ping")));
  beast::flat_buffer buf;
  ws.read(buf);
  EXPECT_EQ(beast::buffers_to_string(buf.data()), "ping");
  ws.close(beast::websocket::close_code::normal);
}

TEST_F(ServerTest, ConnectionCapRefusesExtrasWith503) {
  ServerOptions o;
  o.max_connections = 2;
  start(o);
  auto a = connect();
  auto b = connect();
  // Make sure both are registered before the third arrives.
  roundtrip(a, Request{Verb::get, "/hello", 11});
  roundtrip(b, Request{Verb::get, "/hello", 11});
  auto c = connect();
  beast::flat_buffer buf;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(c, buf, res);
  EXPECT_EQ(res.result(), StatusCode::service_unavailable);
  EXPECT_EQ(res[beast::http::field::retry_after], "1");
  EXPECT_FALSE(res.keep_alive());
}

TEST_F(ServerTest, StopLetsInFlightRequestFinishAndClosesIdle) {
  start({});
  auto idle = connect();
  roundtrip(idle, Request{Verb::get, "/hello", 11});
  auto busy = connect();
  Request req{Verb::post, "/slow", 11};
  req.set(beast::http::field::host, "localhost");
  req.body() = "payload";
  req.prepare_payload();
  beast::http::write(busy, req);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server_->stop();
  beast::flat_buffer buf;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(busy, buf, res);
  EXPECT_EQ(res.body(), "done:payload");
  EXPECT_FALSE(res.keep_alive());
  // The idle connection was closed by the server.
  beast::error_code ec;
  char byte;
  idle.socket().read_some(net::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  thread_.join();
  EXPECT_EQ(server_->active_connections(), 0u);
}

TEST_F(ServerTest, ListenFailsClearlyWhenThePortIsTaken) {
  start({});
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = server_->port();
  o.handle_signals = false;
  Server second(o, router_, chain_);
  auto st = second.listen();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kIo);
  EXPECT_NE(st.error().message.find(std::to_string(o.port)), std::string::npos);
}

}  // namespace
}  // namespace scribepod::http
