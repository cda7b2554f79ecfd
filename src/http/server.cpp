#include "http/server.h"

#include <fmt/format.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <csignal>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/error_response.h"
#include "telemetry/log.h"

namespace scribepod::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

// One accepted connection. The coroutine owns it through a shared_ptr; the
// server keeps another to close it during shutdown. Everything touching the
// stream runs on the connection's strand.
struct Connection {
  explicit Connection(tcp::socket socket)
      : executor(socket.get_executor()), stream(std::move(socket)) {}
  net::any_io_executor executor;
  beast::tcp_stream stream;
  bool busy = false;  // a request is being read, handled or answered
};

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, const Router& router, const MiddlewareChain& chain)
      : opt_(std::move(options)),
        router_(router),
        chain_(chain),
        accept_strand_(net::make_strand(ioc_)),
        acceptor_(accept_strand_),
        signals_(ioc_) {}

  Status listen();
  void run();
  void stop() {
    net::post(accept_strand_, [this] { begin_shutdown(); });
  }
  std::uint16_t port() const { return bound_port_; }
  std::size_t active() const { return active_.load(); }

 private:
  net::awaitable<void> accept_loop();
  net::awaitable<void> serve(std::shared_ptr<Connection> conn, std::uint64_t id);
  net::awaitable<void> reject_connection(tcp::socket socket);
  net::awaitable<void> write_final(beast::tcp_stream& stream, Response res);
  net::awaitable<void> drain();
  // The response owed for a failed read, or nullopt when the connection
  // should just close (peer gone, timed out).
  std::optional<Response> refusal_for_read_error(const beast::error_code& ec,
                                                 const std::string& client_ip,
                                                 std::string_view phase) const;
  void begin_shutdown();
  void close_connections(bool idle_only);

  ServerOptions opt_;
  const Router& router_;
  const MiddlewareChain& chain_;
  net::io_context ioc_;
  // The accept loop and begin_shutdown() (which closes the acceptor) run
  // here: an acceptor is not safe to use from two threads at once (TSan).
  net::strand<net::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  std::uint16_t bound_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> active_{0};
  std::mutex conns_mu_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> conns_;
  std::uint64_t next_id_ = 0;
};

Status Server::Impl::listen() {
  beast::error_code ec;
  tcp::resolver resolver(ioc_);
  const auto results =
      resolver.resolve(opt_.host, std::to_string(opt_.port), tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Error::io(fmt::format("cannot resolve listen address {}: {}", opt_.host, ec.message()));
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  const auto fail = [&](std::string_view what) {
    return Error::io(fmt::format("cannot {} {}:{}: {}", what, opt_.host, opt_.port, ec.message()));
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("configure");
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind to");
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  bound_port_ = acceptor_.local_endpoint(ec).port();
  return {};
}

void Server::Impl::run() {
  if (opt_.handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait(
        net::bind_executor(accept_strand_, [this](const beast::error_code& ec, int sig) {
          if (ec) return;
          log::info("signal received, shutting down", {{"signal", sig}});
          begin_shutdown();
        }));
  }
  net::co_spawn(accept_strand_, accept_loop(), net::detached);
  log::info("listening", {{"host", opt_.host},
                          {"port", static_cast<unsigned>(bound_port_)},
                          {"threads", opt_.threads}});
  const int extra = std::max(0, opt_.threads - 1);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(extra));
  for (int i = 0; i < extra; ++i) threads.emplace_back([this] { ioc_.run(); });
  ioc_.run();
  for (auto& t : threads) t.join();
  log::info("stopped");
}

net::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(net::make_strand(ioc_));
    co_await acceptor_.async_accept(socket, net::redirect_error(net::use_awaitable, ec));
    if (stopping_) co_return;
    if (ec) {
      // Out of descriptors or similar: back off a little instead of spinning.
      log::warn("accept failed", {{"error", ec.message()}});
      net::steady_timer pause(ioc_, std::chrono::milliseconds(50));
      co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
      continue;
    }
    if (active_.load() >= opt_.max_connections) {
      auto ex = socket.get_executor();
      net::co_spawn(ex, reject_connection(std::move(socket)), net::detached);
      continue;
    }
    auto conn = std::make_shared<Connection>(std::move(socket));
    std::uint64_t id = 0;
    {
      std::lock_guard lock(conns_mu_);
      id = next_id_++;
      conns_.emplace(id, conn);
    }
    active_.fetch_add(1);
    net::co_spawn(conn->executor, serve(conn, id), [](const std::exception_ptr& e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error("connection failed", {{"error", ex.what()}});
      }
    });
  }
}

net::awaitable<void> Server::Impl::reject_connection(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(1));
  Error busy{ErrorCode::kUnavailable, "too many connections; retry shortly",
             std::chrono::seconds(1)};
  log::warn("connection refused: limit reached", {{"max_connections", opt_.max_connections}});
  Response res = error_response(busy, 11, false, opt_.production);
  co_await write_final(stream, std::move(res));
}

net::awaitable<void> Server::Impl::write_final(beast::tcp_stream& stream, Response res) {
  beast::error_code ec;
  res.keep_alive(false);
  stream.expires_after(opt_.write_timeout);
  co_await beast::http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

std::optional<Response> Server::Impl::refusal_for_read_error(const beast::error_code& ec,
                                                             const std::string& client_ip,
                                                             std::string_view phase) const {
  const auto& http_errors =
      beast::http::make_error_code(beast::http::error::bad_version).category();
  if (ec == beast::http::error::header_limit) {
    log::warn("request headers too large", {{"client_ip", client_ip}});
    const Error error{ErrorCode::kHeadersTooLarge, "request headers too large", {}};
    return error_response(error, 11, false, opt_.production);
  }
  if (ec == beast::error::timeout) {
    log::warn("request timed out", {{"client_ip", client_ip}, {"phase", phase}});
    return std::nullopt;
  }
  if (ec.category() == http_errors && ec != beast::http::error::end_of_stream &&
      ec != beast::http::error::partial_message) {
    log::warn("malformed request", {{"client_ip", client_ip}, {"error", ec.message()}});
    const Error error = Error::bad_request(
        fmt::format("malformed HTTP {}: {}", phase == "body" ? "body" : "request", ec.message()));
    return error_response(error, 11, false, opt_.production);
  }
  return std::nullopt;
}

net::awaitable<void> Server::Impl::serve(std::shared_ptr<Connection> conn, std::uint64_t id) {
  struct Release {
    Impl* self;
    std::uint64_t id;
    ~Release() {
      {
        std::lock_guard lock(self->conns_mu_);
        self->conns_.erase(id);
      }
      self->active_.fetch_sub(1);
    }
  } release{this, id};

  beast::tcp_stream& stream = conn->stream;
  beast::error_code ec;
  std::string client_ip = stream.socket().remote_endpoint(ec).address().to_string();
  beast::flat_buffer buffer;
  bool first = true;

  while (!stopping_) {
    conn->busy = false;
    if (buffer.size() == 0) {
      // Waiting for the next request: the idle timeout applies (the read
      // timeout for a fresh connection, which must send something soon).
      stream.expires_after(first ? opt_.read_timeout : opt_.idle_timeout);
      const std::size_t n = co_await stream.async_read_some(
          buffer.prepare(4096), net::redirect_error(net::use_awaitable, ec));
      if (ec) break;
      buffer.commit(n);
    }
    first = false;
    conn->busy = true;
    const auto start = std::chrono::steady_clock::now();
    // One deadline for the whole request, so trickling bytes can't extend it.
    stream.expires_after(opt_.read_timeout);

    beast::http::request_parser<beast::http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(opt_.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    // No body limit while the head is read: Beast would report a declared
    // Content-Length over it as a parse error. The declared size is checked
    // below, where it can be answered with 413.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    co_await beast::http::async_read_header(stream, buffer, parser,
                                            net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      // On a timeout Beast has already closed the socket: there is no one
      // left to tell, so it is only logged.
      if (auto refusal = refusal_for_read_error(ec, client_ip, "headers")) {
        co_await write_final(stream, std::move(*refusal));
      }
      break;
    }

    Context ctx;
    ctx.client_ip = client_ip;
    ctx.start = start;
    ctx.production = opt_.production;

    const auto declared = parser.content_length();
    if (declared && *declared > opt_.max_body_bytes) {
      Request req{parser.get().base()};
      const Error too_large = Error::too_large(fmt::format(
          "request body of {} bytes is over the {} byte limit", *declared, opt_.max_body_bytes));
      Response refusal = chain_.refuse(req, ctx, too_large);
      co_await write_final(stream, std::move(refusal));
      break;
    }
    parser.body_limit(opt_.max_body_bytes);  // still enforced for chunked bodies
    const auto expect = parser.get().find(beast::http::field::expect);
    if (expect != parser.get().end() && beast::iequals(expect->value(), "100-continue")) {
      beast::http::response<beast::http::empty_body> cont{beast::http::status::continue_,
                                                          parser.get().version()};
      co_await beast::http::async_write(stream, cont, net::redirect_error(net::use_awaitable, ec));
      if (ec) break;
    }
    if (!parser.is_done()) {
      co_await beast::http::async_read(stream, buffer, parser,
                                       net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        std::optional<Response> refusal;
        if (ec == beast::http::error::body_limit) {
          Request req{parser.get().base()};
          const Error too_large = Error::too_large(
              fmt::format("request body is over the {} byte limit", opt_.max_body_bytes));
          refusal = chain_.refuse(req, ctx, too_large);
        } else {
          refusal = refusal_for_read_error(ec, client_ip, "body");
        }
        if (refusal) co_await write_final(stream, std::move(*refusal));
        break;
      }
    }

    Request req = parser.release();
    const RouteMatch match = router_.match(req.method(), req.target());
    if (match.pattern != nullptr) ctx.route = *match.pattern;
    ctx.options = match.options;
    ctx.params = match.params;

    if (match.upgrade != nullptr && beast::websocket::is_upgrade(req)) {
      if (auto refusal = chain_.admit_upgrade(req, ctx)) {
        co_await write_final(stream, std::move(*refusal));
        break;
      }
      stream.expires_never();
      // The upgrade handler owns the connection from here on.
      co_await (*match.upgrade)(std::move(stream), std::move(req), std::move(ctx));
      co_return;
    }

    Response res = co_await chain_.run(req, ctx, match);
    if (stopping_) res.keep_alive(false);
    stream.expires_after(opt_.write_timeout);
    if (req.method() == beast::http::verb::head) {
      // Same headers as GET, no body.
      beast::http::response<beast::http::empty_body> head_res{std::move(res.base())};
      co_await beast::http::async_write(stream, head_res,
                                        net::redirect_error(net::use_awaitable, ec));
    } else {
      co_await beast::http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
    }
    if (ec || !res.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.close();
}

void Server::Impl::begin_shutdown() {
  if (stopping_.exchange(true)) return;
  log::info("draining", {{"active_connections", active_.load()},
                         {"grace_ms", static_cast<long long>(opt_.shutdown_grace.count())}});
  beast::error_code ec;
  acceptor_.close(ec);
  if (opt_.on_shutdown) opt_.on_shutdown();
  close_connections(/*idle_only=*/true);
  net::co_spawn(ioc_, drain(), net::detached);
}

void Server::Impl::close_connections(bool idle_only) {
  std::lock_guard lock(conns_mu_);
  for (auto& [id, conn] : conns_) {
    net::post(conn->executor, [conn = conn, idle_only] {
      if (idle_only && conn->busy) return;
      beast::error_code ec;
      conn->stream.socket().cancel(ec);
    });
  }
}

net::awaitable<void> Server::Impl::drain() {
  net::steady_timer timer(ioc_);
  beast::error_code ec;
  const auto deadline = std::chrono::steady_clock::now() + opt_.shutdown_grace;
  while (active_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    close_connections(/*idle_only=*/true);
  }
  if (active_.load() > 0) {
    log::warn("shutdown grace expired, closing connections",
              {{"active_connections", active_.load()}});
    close_connections(/*idle_only=*/false);
    const auto hard = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (active_.load() > 0 && std::chrono::steady_clock::now() < hard) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
  }
  signals_.cancel(ec);
  ioc_.stop();
}

Server::Server(ServerOptions options, const Router& router, const MiddlewareChain& chain)
    : impl_(std::make_unique<Impl>(std::move(options), router, chain)) {}
Server::~Server() = default;
Status Server::listen() { return impl_->listen(); }
std::uint16_t Server::port() const { return impl_->port(); }
void Server::run() { impl_->run(); }
void Server::stop() { impl_->stop(); }
std::size_t Server::active_connections() const { return impl_->active(); }

}  // namespace scribepod::http
