// Process lifecycle: graceful shutdown on SIGTERM/SIGINT (in-flight requests
// complete with Connection: close, idle connections close, new connections
// are refused, exit 0), the grace period, and the start-up exit codes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <thread>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Opens a POST with a 10-byte body, waits for 100 Continue (so the server is
// certainly in the middle of this request) and sends the first half of the
// body.
HttpConnection start_in_flight_request(std::uint16_t port) {
  HttpConnection conn(port);
  if (!conn.send("POST /v1/nonexistent HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                 "Content-Length: 10\r\nExpect: 100-continue\r\n\r\n")) {
    throw std::runtime_error("cannot send the request head");
  }
  const ReadResult interim = conn.try_read(2s, false, /*return_interim=*/true);
  if (interim.outcome != ReadOutcome::kResponse || interim.response.status != 100) {
    throw std::runtime_error("expected 100 Continue, got: " + interim.raw + interim.error);
  }
  if (!conn.send("01234")) throw std::runtime_error("cannot send half the body");
  return conn;
}

TEST(LifecycleTest, SigtermLetsAnInFlightRequestFinish) {
  auto server = ServerProcess::serve(
      {"--set", "server.shutdown_grace=5s", "--set", "server.read_timeout=5s"});
  HttpConnection conn = start_in_flight_request(server->port());
  server->send_signal(SIGTERM);
  ASSERT_TRUE(server->wait_for_log({"\"message\":\"draining\""}, 2s)) << server->describe();
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(server->running()) << "exited with a request in flight\n" << server->describe();
  ASSERT_TRUE(conn.send("56789"));
  const ReadResult r = conn.try_read(3s);
  ASSERT_EQ(r.outcome, ReadOutcome::kResponse) << r.error << "\nreceived: " << r.raw;
  EXPECT_TRUE(IsJsonError(r.response, 404, "not_found"));
  EXPECT_EQ(r.response.header("Connection"), "close") << r.response.head_text();
  EXPECT_TRUE(conn.wait_closed(1s));
  // Drained: the process exits without waiting out the grace period.
  const auto after = Clock::now();
  EXPECT_EQ(server->wait_exit(3s), 0) << server->describe();
  EXPECT_LT(seconds_since(after), 2.0);
  EXPECT_TRUE(server->wait_for_log({"\"message\":\"stopped\""}, 1s)) << server->describe();
}

TEST(LifecycleTest, SigtermLetsAPlainPostFinish) {
  // As most clients send it: no Expect header, the body split in two.
  auto server = ServerProcess::serve(
      {"--set", "server.shutdown_grace=5s", "--set", "server.read_timeout=5s"});
  HttpConnection conn(server->port());
  const std::string body(2000, 'b');
  const std::string request =
      make_request("POST", "/v1/nonexistent", {{"Content-Type", "application/octet-stream"}}, body);
  const std::size_t half = request.size() - body.size() / 2;
  ASSERT_TRUE(conn.send(std::string_view(request).substr(0, half)));
  std::this_thread::sleep_for(200ms);  // let the server start reading it
  server->send_signal(SIGTERM);
  ASSERT_TRUE(server->wait_for_log({"\"message\":\"draining\""}, 2s)) << server->describe();
  ASSERT_TRUE(conn.send(std::string_view(request).substr(half)));
  const ReadResult r = conn.try_read(3s);
  ASSERT_EQ(r.outcome, ReadOutcome::kResponse) << r.error << "\nreceived: " << r.raw;
  EXPECT_EQ(r.response.status, 404u) << r.response.head_text();
  EXPECT_FALSE(r.response.keep_alive) << r.response.head_text();
  EXPECT_EQ(r.response.header("Connection"), "close");
  EXPECT_EQ(server->wait_exit(3s), 0) << server->describe();
}

TEST(LifecycleTest, NewConnectionsAreRefusedWhileDraining) {
  auto server = ServerProcess::serve(
      {"--set", "server.shutdown_grace=5s", "--set", "server.read_timeout=5s"});
  HttpConnection conn = start_in_flight_request(server->port());
  server->send_signal(SIGTERM);
  ASSERT_TRUE(server->wait_for_log({"\"message\":\"draining\""}, 2s)) << server->describe();
  ASSERT_TRUE(server->running());
  EXPECT_EQ(HttpConnection::try_connect(server->port()), ECONNREFUSED)
      << "the listening socket is still open during the drain";
  ASSERT_TRUE(conn.send("56789"));
  const ReadResult r = conn.try_read(3s);
  ASSERT_EQ(r.outcome, ReadOutcome::kResponse) << r.error;
  EXPECT_EQ(r.response.status, 404u);
  EXPECT_EQ(server->wait_exit(3s), 0) << server->describe();
}

TEST(LifecycleTest, SigtermClosesIdleConnectionsAndExits) {
  auto server = ServerProcess::serve({"--set", "server.shutdown_grace=5s"});
  HttpConnection idle(server->port());
  ASSERT_EQ(idle.roundtrip(make_request("GET", "/health")).status, 200u);
  HttpConnection fresh(server->port());  // connected, never sent anything
  std::this_thread::sleep_for(50ms);
  const auto start = Clock::now();
  server->send_signal(SIGTERM);
  std::string received;
  EXPECT_TRUE(idle.wait_closed(1s, &received)) << "idle keep-alive connection left open";
  EXPECT_EQ(received, "");
  EXPECT_TRUE(fresh.wait_closed(1s)) << "silent connection left open";
  EXPECT_EQ(server->wait_exit(2s), 0) << server->describe();
  EXPECT_LT(seconds_since(start), 2.0) << "idle connections held up the shutdown";
}

TEST(LifecycleTest, SigintAlsoDrainsAndExitsZero) {
  auto server = ServerProcess::serve();
  ASSERT_EQ(http_get(server->port(), "/health").status, 200u);
  server->send_signal(SIGINT);
  EXPECT_EQ(server->wait_exit(3s), 0) << server->describe();
  EXPECT_TRUE(server->wait_for_log({"\"message\":\"signal received, shutting down\""}, 1s));
  EXPECT_EQ(HttpConnection::try_connect(server->port()), ECONNREFUSED);
}

TEST(LifecycleTest, GracePeriodBoundsTheShutdown) {
  auto server = ServerProcess::serve(
      {"--set", "server.shutdown_grace=500ms", "--set", "server.read_timeout=30s"});
  HttpConnection stuck = start_in_flight_request(server->port());  // never finished
  const auto start = Clock::now();
  server->send_signal(SIGTERM);
  const auto status = server->wait_exit(4s);
  const double elapsed = seconds_since(start);
  ASSERT_TRUE(status.has_value()) << "still running 4 s after SIGTERM with a 500 ms grace\n"
                                  << server->describe();
  EXPECT_EQ(*status, 0) << server->describe();
  EXPECT_GE(elapsed, 0.4) << "did not wait for the in-flight request at all";
  EXPECT_LE(elapsed, 2.5);
  EXPECT_TRUE(server->wait_for_log({"shutdown grace expired"}, 1s)) << server->describe();
  EXPECT_TRUE(stuck.wait_closed(1s));
}

TEST(LifecycleTest, PortInUseExits4) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  const CliResult r = run_cli({"serve", "--port", port});
  ::close(fd);
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:" + port), std::string::npos) << r.err;
}

TEST(LifecycleTest, InvalidConfigExits3NamingTheKey) {
  const std::string port = std::to_string(pick_free_port());
  {
    const CliResult r = run_cli({"serve", "--port", port, "--set", "server.read_timeout=soon"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("server.read_timeout"), std::string::npos) << r.err;
  }
  {
    const CliResult r =
        run_cli({"serve", "--port", port}, {{"SCRIBEPOD_SERVER_MAX_BODY_BYTES", "lots"}});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("server.max_body_bytes"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("SCRIBEPOD_SERVER_MAX_BODY_BYTES"), std::string::npos) << r.err;
  }
  {
    const CliResult r = run_cli({"serve", "--port", port, "--set", "server.prot=1"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("server.port"), std::string::npos) << "no suggestion: " << r.err;
  }
  {
    const CliResult r = run_cli({"serve", "--port", "99999"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("server.port"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace scribepod::testing
