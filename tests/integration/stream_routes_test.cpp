// GET /v1/stream's transport (api/stream_routes) in the real http::Server
// with the real middleware (CORS, API keys), driven by a Beast WebSocket
// client. The session behind it is EchoStreamSessionTestDouble, a stand-in
// for live::StreamSession that answers text commands, so these tests cover
// only the transport: admission (401/403/503), frame routing, seq stamping,
// drops, close codes, disconnect and shutdown. The real session is covered
// by stream_protocol_test.cpp against the binary.
#include "api/stream_routes.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "http/api_key_auth.h"
#include "http/cors.h"
#include "http/server.h"

namespace scribepod::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using namespace std::chrono_literals;

// What the sessions saw, across all of them.
struct SessionLog {
  std::mutex mu;
  int created = 0;
  int disconnected = 0;
  int shut_down = 0;
  int destroyed = 0;
  std::size_t partials_dropped = 0;
};

// A TEST DOUBLE for live::StreamSession. Text commands: "start" → session
// event; "burst N" → N droppable partials then a final, emitted at once from
// on_text; "bad" → error + close 1007; "stop" → final, then an empty event
// closing with 1000; anything else is echoed, from another thread (as the
// real session's compute strand would). Audio → {"type":"audio","bytes":n}.
class EchoStreamSessionTestDouble final : public live::StreamSession {
 public:
  EchoStreamSessionTestDouble(live::EventSink sink, net::thread_pool& pool, SessionLog& log)
      : out_(std::make_shared<Out>(std::move(sink))), strand_(net::make_strand(pool)), log_(log) {
    std::lock_guard lock(log_.mu);
    ++log_.created;
  }
  ~EchoStreamSessionTestDouble() override {
    std::lock_guard lock(log_.mu);
    ++log_.destroyed;
  }
  void on_text(std::string_view text) override {
    const std::string t(text);
    if (t == "start") {
      emit(R"({"type":"session","seq":1,"session_id":"s1"})");
    } else if (t.starts_with("burst ")) {
      const int n = std::stoi(t.substr(6));
      for (int i = 1; i <= n; ++i) {
        out_->sink({json{{"type", "partial"}, {"seq", 0}, {"revision", i}}.dump(), true, 0});
      }
      out_->sink({R"({"type":"final","seq":0,"text":"done"})", false, 0});
    } else if (t == "bad") {
      emit(R"({"type":"error","seq":0,"code":"bad_request","message":"bad"})", 1007);
    } else if (t == "stop") {
      emit(R"({"type":"final","seq":0,"text":"bye"})");
      emit("", 1000);
    } else {
      emit(json{{"type", "echo"}, {"seq", 0}, {"text", t}}.dump());
    }
  }
  void on_audio(std::span<const std::uint8_t> bytes) override {
    emit(json{{"type", "audio"}, {"seq", 0}, {"bytes", bytes.size()}}.dump());
  }
  void on_disconnect() override {
    std::lock_guard lock(log_.mu);
    ++log_.disconnected;
    out_->done = true;
  }
  void on_shutdown() override {
    {
      std::lock_guard lock(log_.mu);
      ++log_.shut_down;
    }
    emit(R"({"type":"final","seq":0,"text":"flushed","reason":"shutdown"})");
    emit(R"({"type":"error","seq":0,"code":"shutting_down","message":"bye"})", 1001);
  }
  void on_partials_dropped(std::size_t count) override {
    std::lock_guard lock(log_.mu);
    log_.partials_dropped += count;
  }
  bool finished() const override { return out_->done; }

 private:
  // Shared with queued work, so the session may be destroyed at any time.
  struct Out {
    explicit Out(live::EventSink s) : sink(std::move(s)) {}
    live::EventSink sink;
    std::atomic<bool> done{false};
  };
  void emit(std::string event, int close_code = 0) {
    net::post(strand_,
              [out = out_, e = live::Event{std::move(event), false, close_code}]() mutable {
                const bool last = e.close_code != 0;
                out->sink(std::move(e));
                if (last) out->done = true;
              });
  }
  std::shared_ptr<Out> out_;
  net::strand<net::thread_pool::executor_type> strand_;
  SessionLog& log_;
};

class StreamRoutesTest : public ::testing::Test {
 protected:
  void start(StreamRouteDeps deps, std::vector<std::string> keys = {},
             std::vector<std::string> origins = {}) {
    if (!deps.make_session) {
      deps.make_session =
          [this](live::EventSink sink) -> Result<std::unique_ptr<live::StreamSession>> {
        return std::unique_ptr<live::StreamSession>(
            std::make_unique<EchoStreamSessionTestDouble>(std::move(sink), pool_, log_));
      };
    }
    deps.allowed_origins = origins;
    chain_.add(std::make_unique<http::CorsMiddleware>(origins, 600s));
    chain_.add(
        std::make_unique<http::ApiKeyMiddleware>(keys, "", std::vector<std::string>{"/v1/stream"}));
    hub_ = add_stream_routes(router_, std::move(deps));
    router_.add(http::Verb::get, "/plain",
                [](http::Request& req, http::Context&) -> net::awaitable<Result<http::Response>> {
                  co_return http::make_response(req, http::StatusCode::ok, "ok", "text/plain");
                });
    http::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.handle_signals = false;
    so.threads = 2;
    so.shutdown_grace = 3s;
    so.on_shutdown = [hub = hub_] { hub->shutdown(); };
    server_ = std::make_unique<http::Server>(so, router_, chain_);
    ASSERT_TRUE(server_->listen().ok());
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    pool_.join();
  }

  using Ws = websocket::stream<tcp::socket>;
  // Upgrades to `target`; the handshake's error (e.g. upgrade_declined) and
  // the server's response land in `ec` and `res`.
  std::unique_ptr<Ws> open(beast::error_code& ec, websocket::response_type& res,
                           const std::string& target = "/v1/stream",
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto ws = std::make_unique<Ws>(ioc_);
    ws->next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    timeval tv{5, 0};
    setsockopt(ws->next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ws->set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    ws->handshake(res, "127.0.0.1:" + std::to_string(server_->port()), target, ec);
    return ws;
  }
  std::unique_ptr<Ws> open() {
    beast::error_code ec;
    websocket::response_type res;
    auto ws = open(ec, res);
    EXPECT_FALSE(ec) << ec.message() << " " << res.result_int();
    return ws;
  }
  // The answer to a hand-made upgrade request (Beast 1.74's client handshake
  // does not return the response of a refused upgrade).
  beast::http::response<beast::http::string_body> upgrade(
      const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    beast::http::request<beast::http::empty_body> req{beast::http::verb::get, target, 11};
    req.set(beast::http::field::host, "127.0.0.1:" + std::to_string(server_->port()));
    req.set(beast::http::field::upgrade, "websocket");
    req.set(beast::http::field::connection, "Upgrade");
    req.set(beast::http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    req.set(beast::http::field::sec_websocket_version, "13");
    for (const auto& [k, v] : headers) req.set(k, v);
    beast::http::write(s, req);
    beast::flat_buffer buf;
    beast::http::response<beast::http::string_body> res;
    beast::error_code ec;
    beast::http::read(s, buf, res, ec);
    return res;
  }
  static json read_event(Ws& ws, beast::error_code& ec) {
    beast::flat_buffer buf;
    ws.read(buf, ec);
    if (ec) return json();
    return json::parse(beast::buffers_to_string(buf.data()));
  }
  static json read_event(Ws& ws) {
    beast::error_code ec;
    json j = read_event(ws, ec);
    EXPECT_FALSE(ec) << ec.message();
    return j;
  }
  // Reads events until the close; returns them, the close code in `code`.
  static std::vector<json> read_until_close(Ws& ws, int& code) {
    std::vector<json> out;
    for (;;) {
      beast::error_code ec;
      json j = read_event(ws, ec);
      if (ec) {
        code = ec == websocket::error::closed ? static_cast<int>(ws.reason().code) : -1;
        return out;
      }
      out.push_back(std::move(j));
    }
  }
  template <typename Pred>
  bool eventually(Pred pred, std::chrono::milliseconds limit = 3s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      {
        std::lock_guard lock(log_.mu);
        if (pred()) return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    std::lock_guard lock(log_.mu);
    return pred();
  }

  net::io_context ioc_;
  net::thread_pool pool_{1};
  SessionLog log_;
  http::Router router_;
  http::MiddlewareChain chain_;
  std::shared_ptr<StreamHub> hub_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

TEST_F(StreamRoutesTest, RoutesTextAndAudioAndStampsSeqPerConnection) {
  start({});
  auto ws = open();
  ws->write(net::buffer(std::string("start")));
  EXPECT_EQ(read_event(*ws)["type"], "session");
  ws->binary(true);
  ws->write(net::buffer(std::string(320, '\0')));
  const json audio = read_event(*ws);
  EXPECT_EQ(audio["type"], "audio");
  EXPECT_EQ(audio["bytes"], 320);
  EXPECT_EQ(audio["seq"], 2);
  ws->text(true);
  ws->write(net::buffer(std::string("hello")));
  const json echo = read_event(*ws);
  EXPECT_EQ(echo["text"], "hello");
  EXPECT_EQ(echo["seq"], 3);
  ws->write(net::buffer(std::string("stop")));
  int code = 0;
  const auto rest = read_until_close(*ws, code);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0]["text"], "bye");
  EXPECT_EQ(rest[0]["seq"], 4);
  EXPECT_EQ(code, 1000);
  EXPECT_TRUE(eventually([&] { return log_.destroyed == 1; }));
  std::lock_guard lock(log_.mu);
  EXPECT_EQ(log_.disconnected, 0) << "a session that closed the stream is not 'disconnected'";
}

TEST_F(StreamRoutesTest, SessionCloseCodeClosesTheConnection) {
  start({});
  auto ws = open();
  ws->write(net::buffer(std::string("bad")));
  int code = 0;
  const auto events = read_until_close(*ws, code);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["code"], "bad_request");
  EXPECT_EQ(code, 1007);
}

TEST_F(StreamRoutesTest, ClientGoingAwayDisconnectsTheSession) {
  start({});
  auto ws = open();
  ws->write(net::buffer(std::string("start")));
  read_event(*ws);
  ws->close(websocket::close_code::going_away);
  EXPECT_TRUE(eventually([&] { return log_.disconnected == 1 && log_.destroyed == 1; }));
  EXPECT_EQ(hub_->open_streams(), 0u);
}

TEST_F(StreamRoutesTest, OversizedFrameGetsAnErrorEventAndClose1009) {
  StreamRouteDeps deps;
  deps.max_frame_bytes = 1000;
  start(std::move(deps));
  auto ws = open();
  ws->write(net::buffer(std::string("start")));
  EXPECT_EQ(read_event(*ws)["seq"], 1);
  ws->binary(true);
  ws->write(net::buffer(std::string(1000, 'a')));
  EXPECT_EQ(read_event(*ws)["bytes"], 1000);
  ws->write(net::buffer(std::string(1001, 'a')));
  int code = 0;
  const auto events = read_until_close(*ws, code);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "error");
  EXPECT_EQ(events[0]["code"], "payload_too_large");
  EXPECT_EQ(events[0]["seq"], 3) << "transport events continue the connection's seq";
  EXPECT_EQ(code, 1009);
  EXPECT_TRUE(eventually([&] { return log_.disconnected == 1; }));
}

TEST_F(StreamRoutesTest, IdleClientGetsRequestTimeoutAnd4408) {
  StreamRouteDeps deps;
  deps.idle_timeout = 300ms;
  start(std::move(deps));
  auto ws = open();
  int code = 0;
  const auto events = read_until_close(*ws, code);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["code"], "request_timeout");
  EXPECT_EQ(events[0]["seq"], 1);
  EXPECT_EQ(code, 4408);
}

TEST_F(StreamRoutesTest, FullQueueDropsPartialsNotFinalsAndSeqStaysGapFree) {
  StreamRouteDeps deps;
  deps.max_queued_events = 4;
  start(std::move(deps));
  auto ws = open();
  ws->write(net::buffer(std::string("burst 200")));
  // Emitted in one go from on_text: p1-p4 fill the queue, each later partial
  // evicts the oldest, the final evicts one more.
  std::vector<json> got;
  for (int i = 0; i < 4; ++i) got.push_back(read_event(*ws));
  EXPECT_EQ(got[0]["revision"], 198);
  EXPECT_EQ(got[1]["revision"], 199);
  EXPECT_EQ(got[2]["revision"], 200);
  EXPECT_EQ(got[3]["type"], "final");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)]["seq"], i + 1);
  EXPECT_TRUE(eventually([&] { return log_.partials_dropped == 197; }));
  EXPECT_EQ(hub_->dropped_events(), 197u);
}

TEST_F(StreamRoutesTest, BeyondMaxStreamsIsRefusedWith503AndRetryAfter) {
  StreamRouteDeps deps;
  deps.max_streams = 1;
  start(std::move(deps));
  auto first = open();
  const auto res = upgrade("/v1/stream");
  EXPECT_EQ(res.result_int(), 503u);
  EXPECT_EQ(res[beast::http::field::retry_after], "1");
  EXPECT_NE(res.body().find("unavailable"), std::string::npos) << res.body();
  first->close(websocket::close_code::normal);
  EXPECT_TRUE(eventually([&] { return log_.destroyed == 1; }));
  EXPECT_TRUE(eventually([&] { return hub_->open_streams() == 0; }));
  auto third = open();
  third->write(net::buffer(std::string("start")));
  EXPECT_EQ(read_event(*third)["type"], "session") << "the slot was released";
}

TEST_F(StreamRoutesTest, OriginMustBeAllowedOrTheServersOwn) {
  start({}, {}, {"http://app.example"});
  const std::string own = "http://127.0.0.1:" + std::to_string(server_->port());
  for (const auto& [origin, status] : std::vector<std::pair<std::string, unsigned>>{
           {"http://evil.example", 403}, {"http://app.example", 101}, {own, 101}}) {
    EXPECT_EQ(upgrade("/v1/stream", {{"Origin", origin}}).result_int(), status) << origin;
  }
}

TEST_F(StreamRoutesTest, ApiKeyFromHeadersOrQueryElse401) {
  start({}, {"sekret"});
  struct Case {
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    unsigned status;
  };
  const std::vector<Case> cases = {
      {"/v1/stream", {}, 401},
      {"/v1/stream?api_key=wrong", {}, 401},
      {"/v1/stream", {{"Authorization", "Bearer sekret"}}, 101},
      {"/v1/stream", {{"X-API-Key", "sekret"}}, 101},
      {"/v1/stream?api_key=sekret", {}, 101},
      {"/v1/stream?x=1&api_key=sekret", {}, 101},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(upgrade(c.target, c.headers).result_int(), c.status) << c.target;
  }
}

TEST_F(StreamRoutesTest, QueryKeyIsOnlyForUpgradesToOptedInRoutes) {
  start({}, {"sekret"});
  tcp::socket s(ioc_);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
  beast::http::request<beast::http::empty_body> req{beast::http::verb::get, "/plain?api_key=sekret",
                                                    11};
  req.set(beast::http::field::host, "localhost");
  beast::http::write(s, req);
  beast::flat_buffer buf;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(s, buf, res);
  EXPECT_EQ(res.result_int(), 401u);
}

TEST_F(StreamRoutesTest, ShutdownFlushesEverySessionThenCloses1001) {
  start({});
  auto a = open();
  auto b = open();
  a->write(net::buffer(std::string("start")));
  b->write(net::buffer(std::string("start")));
  read_event(*a);
  read_event(*b);
  const auto stop_at = std::chrono::steady_clock::now();
  server_->stop();
  for (Ws* ws : {a.get(), b.get()}) {
    int code = 0;
    const auto events = read_until_close(*ws, code);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0]["reason"], "shutdown");
    EXPECT_EQ(events[0]["seq"], 2);
    EXPECT_EQ(events[1]["code"], "shutting_down");
    EXPECT_EQ(code, 1001);
  }
  thread_.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_at, 2s) << "it did not wait for the grace";
  std::lock_guard lock(log_.mu);
  EXPECT_EQ(log_.shut_down, 2);
  EXPECT_EQ(log_.destroyed, 2);
}

TEST_F(StreamRoutesTest, SessionThatCannotStartGetsAnErrorAndAClose) {
  StreamRouteDeps deps;
  deps.make_session = [](live::EventSink) -> Result<std::unique_ptr<live::StreamSession>> {
    return Error{ErrorCode::kUnavailable, "no decoder free", std::chrono::seconds(1)};
  };
  start(std::move(deps));
  auto ws = open();
  int code = 0;
  const auto events = read_until_close(*ws, code);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["code"], "unavailable");
  EXPECT_EQ(events[0]["seq"], 1);
  EXPECT_EQ(code, 1013);
}

}  // namespace
}  // namespace scribepod::api
