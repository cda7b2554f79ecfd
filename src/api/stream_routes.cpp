#include "api/stream_routes.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/write.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "http/error_response.h"
#include "http/websocket.h"
#include "telemetry/log.h"
#include "telemetry/service_metrics.h"

namespace scribepod::api {

namespace net = boost::asio;
namespace beast = boost::beast;
using http::WebSocketConnection;

namespace {

// One open stream as the hub sees it. Touched only on the connection's
// strand, except `conn` (immutable) and the hub's map (under its mutex).
struct OpenStream {
  std::shared_ptr<WebSocketConnection> conn;
  live::StreamSession* session = nullptr;
  bool running = true;  // the connection has not ended yet
};

class Hub final : public StreamHub, public std::enable_shared_from_this<Hub> {
 public:
  explicit Hub(StreamRouteDeps deps) : deps_(std::move(deps)) {}

  const StreamRouteDeps& deps() const { return deps_; }

  // A slot for one more stream; false at capacity or during shutdown.
  bool try_reserve() {
    std::lock_guard lock(mu_);
    if (stopping_ || reserved_ >= deps_.max_streams) return false;
    ++reserved_;
    return true;
  }
  void release() {
    std::lock_guard lock(mu_);
    --reserved_;
  }
  // Registers an open stream; false when shutdown has begun (the caller
  // then shuts its session down itself).
  bool add(std::uint64_t id, std::shared_ptr<OpenStream> s) {
    std::lock_guard lock(mu_);
    streams_.emplace(id, std::move(s));
    return !stopping_;
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mu_);
    streams_.erase(id);
  }
  std::uint64_t next_id() { return next_id_.fetch_add(1); }
  void count_dropped(std::size_t n) { dropped_.fetch_add(n); }

  void shutdown() override {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    log::info("telling live streams to stop", {{"streams", streams_.size()}});
    for (auto& [id, s] : streams_) {
      // on_* calls belong on the connection's strand.
      net::post(s->conn->executor(), [s = s, grace = deps_.shutdown_grace] {
        if (!s->running) return;
        s->session->on_shutdown();
        s->conn->abort_after(grace);
      });
    }
  }
  std::size_t open_streams() const override {
    std::lock_guard lock(mu_);
    return reserved_;
  }
  std::uint64_t dropped_events() const override { return dropped_.load(); }

 private:
  StreamRouteDeps deps_;
  mutable std::mutex mu_;
  bool stopping_ = false;
  std::size_t reserved_ = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<OpenStream>> streams_;
  std::atomic<std::uint64_t> next_id_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

std::string_view close_reason_text(int code) {
  switch (code) {
    case 1000:
      return "normal";
    case 1001:
      return "shutting down";
    case 1003:
      return "unsupported data";
    case 1007:
      return "invalid payload";
    case 1008:
      return "policy violation";
    case 1009:
      return "message too big";
    case 1011:
      return "internal error";
    case 1013:
      return "try again later";
    case 4408:
      return "idle timeout";
    default:
      return "";
  }
}

// An error event; its seq is stamped when it is written.
std::string error_event(std::string_view code, std::string_view message) {
  return nlohmann::ordered_json{{"type", "error"}, {"seq", 0}, {"code", code}, {"message", message}}
      .dump();
}

// Renumbers `seq` per connection as events are written, so dropped partials
// leave no gap.
std::function<void(std::string&)> seq_stamper() {
  return [seq = std::uint64_t{0}](std::string& payload) mutable {
    auto j = nlohmann::ordered_json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return;
    j["seq"] = ++seq;
    payload = j.dump();
  };
}

std::string_view header(const http::Request& req, beast::http::field f) {
  const auto it = req.find(f);
  return it == req.end() ? std::string_view{} : std::string_view{it->value()};
}

bool origin_allowed(const http::Request& req, const std::vector<std::string>& allowed) {
  const std::string_view origin = header(req, beast::http::field::origin);
  if (origin.empty()) return true;  // not a browser
  for (const auto& a : allowed) {
    if (a == origin) return true;
  }
  const std::string_view host = header(req, beast::http::field::host);
  if (host.empty()) return false;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.size() == scheme.size() + host.size() && origin.starts_with(scheme) &&
        beast::iequals(origin.substr(scheme.size()), host)) {
      return true;
    }
  }
  return false;
}

net::awaitable<void> refuse(beast::tcp_stream& stream, const http::Request& req,
                            const http::Context& ctx, const Error& error, bool production) {
  http::Response res = http::error_response(error, req.version(), false, production);
  if (!ctx.request_id.empty()) res.set("X-Request-Id", ctx.request_id);
  log::warn("stream refused", {{"request_id", ctx.request_id},
                               {"client_ip", ctx.client_ip},
                               {"status", static_cast<unsigned>(res.result_int())},
                               {"reason", error.message}});
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(5));
  co_await beast::http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream.close();
}

// Moves frames from the connection to the session.
class Bridge final : public http::WebSocketHandler {
 public:
  Bridge(WebSocketConnection& conn, live::StreamSession& session, Hub& hub, std::size_t max_bytes)
      : conn_(conn), session_(session), hub_(hub), max_bytes_(max_bytes) {}
  void on_text(std::string_view message) override { session_.on_text(message); }
  void on_binary(std::span<const std::uint8_t> message) override { session_.on_audio(message); }
  void on_closing(int code) override {
    // The transport closes on its own; the session's later events are
    // ignored by the connection, and it hears on_disconnect afterwards.
    if (code == http::close_code::kTooBig) {
      conn_.send(error_event("payload_too_large",
                             fmt::format("a frame is over the {} byte limit", max_bytes_)));
    } else if (code == http::close_code::kIdleTimeout) {
      conn_.send(error_event("request_timeout", "no message within the idle timeout"));
    }
  }
  void on_dropped(std::size_t count) override {
    hub_.count_dropped(count);
    session_.on_partials_dropped(count);
  }

 private:
  WebSocketConnection& conn_;
  live::StreamSession& session_;
  Hub& hub_;
  std::size_t max_bytes_;
};

// The sink side: events from the session's serial context to the
// connection's queue. It holds the connection weakly: a resumable session
// may outlive it.
struct SinkState {
  std::weak_ptr<WebSocketConnection> conn;
  std::atomic<bool> closed_by_session{false};
};

live::EventSink make_sink(std::shared_ptr<SinkState> state) {
  return [state = std::move(state)](live::Event event) {
    auto conn = state->conn.lock();
    if (!conn) return;
    const int code = event.close_code;
    // An empty event only carries its close code (after `stop`).
    if (!event.json.empty()) conn->send(std::move(event.json), event.droppable);
    if (code != 0) {
      state->closed_by_session = true;
      conn->close(code, std::string(close_reason_text(code)));
    }
  };
}

// A handler for a connection that only flushes an error before closing.
class Discard final : public http::WebSocketHandler {
 public:
  void on_text(std::string_view) override {}
  void on_binary(std::span<const std::uint8_t>) override {}
};

net::awaitable<void> wait_finished(const live::StreamSession& session,
                                   std::chrono::milliseconds limit) {
  net::steady_timer timer(co_await net::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  beast::error_code ec;
  while (!session.finished() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
}

net::awaitable<void> serve_stream(std::shared_ptr<Hub> hub, beast::tcp_stream stream,
                                  http::Request req, http::Context ctx) {
  const StreamRouteDeps& deps = hub->deps();
  // The refusals are named locals: g++ 12 destroys temporaries in a
  // co_await's operands twice.
  if (!origin_allowed(req, deps.allowed_origins)) {
    const Error forbidden{ErrorCode::kForbidden, "origin not allowed", {}};
    co_await refuse(stream, req, ctx, forbidden, deps.production);
    co_return;
  }
  if (!hub->try_reserve()) {
    const Error full{ErrorCode::kUnavailable,
                     fmt::format("all {} live streams are in use; retry shortly", deps.max_streams),
                     std::chrono::seconds(1)};
    co_await refuse(stream, req, ctx, full, deps.production);
    co_return;
  }
  struct Reservation {
    Hub& hub;
    ~Reservation() { hub.release(); }
  } reservation{*hub};

  http::WebSocketOptions opts;
  opts.read_message_max = deps.max_frame_bytes;
  opts.idle_timeout = deps.idle_timeout;
  opts.max_queued_messages = deps.max_queued_events;
  opts.before_write = seq_stamper();
  // scribepod_queue_depth{stage="outbound"}: events waiting to be written to
  // slow clients, summed over streams.
  opts.on_queue_change = [&outbound = metrics::service().queue_depth.with({"outbound"})](
                             std::int64_t delta) { outbound.inc(static_cast<double>(delta)); };
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("X-Request-Id", ctx.request_id);
  auto accepted = co_await WebSocketConnection::accept(std::move(stream), req, std::move(opts),
                                                       std::move(headers));
  if (!accepted) {
    log::warn("stream upgrade failed",
              {{"request_id", ctx.request_id}, {"error", accepted.error().message}});
    co_return;
  }
  std::shared_ptr<WebSocketConnection> conn = *accepted;
  auto sink_state = std::make_shared<SinkState>();
  sink_state->conn = conn;
  auto made = deps.make_session(make_sink(sink_state));
  if (!made) {
    const Error& e = made.error();
    log::error("cannot open a live session",
               {{"request_id", ctx.request_id}, {"error", e.message}});
    const bool internal = e.code == ErrorCode::kInternal;
    conn->send(error_event(error_code_name(e.code),
                           internal && deps.production ? "internal error" : e.message));
    conn->close(e.code == ErrorCode::kUnavailable ? 1013 : internal ? 1011 : 1008);
    Discard discard;
    co_await conn->run(discard);
    co_return;
  }
  std::unique_ptr<live::StreamSession> session = std::move(*made);
  const auto started = std::chrono::steady_clock::now();
  log::info("stream opened", {{"request_id", ctx.request_id}, {"client_ip", ctx.client_ip}});

  auto open = std::make_shared<OpenStream>();
  open->conn = conn;
  open->session = session.get();
  const std::uint64_t id = hub->next_id();
  if (!hub->add(id, open)) {
    session->on_shutdown();
    conn->abort_after(deps.shutdown_grace);
  }
  Bridge bridge(*conn, *session, *hub, deps.max_frame_bytes);
  const http::CloseInfo info = co_await conn->run(bridge);
  open->running = false;
  hub->remove(id);
  if (!sink_state->closed_by_session) session->on_disconnect();
  co_await wait_finished(*session, deps.finish_timeout);
  if (!session->finished()) {
    log::warn("live session did not finish in time",
              {{"request_id", ctx.request_id},
               {"waited_ms", static_cast<long long>(deps.finish_timeout.count())}});
  }
  const auto stats = conn->stats();
  log::info(
      "stream closed",
      {{"request_id", ctx.request_id},
       {"close_code", info.code},
       {"by_client", info.by_peer},
       {"received", stats.received},
       {"sent", stats.sent},
       {"dropped", stats.dropped},
       {"duration_ms", static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::steady_clock::now() - started)
                                                  .count())}});
}

}  // namespace

std::shared_ptr<StreamHub> add_stream_routes(http::Router& router, StreamRouteDeps deps) {
  auto hub = std::make_shared<Hub>(std::move(deps));
  router.add_upgrade("/v1/stream",
                     [hub](beast::tcp_stream stream, http::Request req,
                           http::Context ctx) -> net::awaitable<void> {
                       co_await serve_stream(hub, std::move(stream), std::move(req),
                                             std::move(ctx));
                     });
  return hub;
}

}  // namespace scribepod::api
