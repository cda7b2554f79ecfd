// Timeouts: a request must arrive whole within server.read_timeout (slow
// loris gets 408), and an idle keep-alive connection is closed after
// server.idle_timeout. Both are 1 s here.
#include <gtest/gtest.h>

#include <thread>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class TimeoutsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = try_serve({"--set", "server.read_timeout=1s", "--set", "server.idle_timeout=1s"}, {},
                        error_);
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_NE(server_, nullptr) << error_; }
  static std::uint16_t port() { return server_->port(); }

  // Sends `first`, then one `drip` every 200 ms, until the server answers
  // or closes; expects that about read_timeout after the first byte, with a
  // 408 if the server answers at all.
  static void expect_timeout_while_trickling(const std::string& first, const std::string& drip) {
    HttpConnection conn(port());
    const auto start = Clock::now();
    ASSERT_TRUE(conn.send(first));
    ReadResult r;
    bool sending = true;
    while (seconds_since(start) < 4.0) {
      r = conn.try_read(200ms);
      if (r.outcome != ReadOutcome::kTimeout) break;
      if (sending) sending = conn.send(drip);
    }
    const double elapsed = seconds_since(start);
    ASSERT_NE(r.outcome, ReadOutcome::kTimeout)
        << "still reading a trickled request after " << elapsed << " s";
    ASSERT_NE(r.outcome, ReadOutcome::kError) << r.error << "\nreceived: " << r.raw;
    if (r.outcome == ReadOutcome::kResponse) {
      EXPECT_TRUE(IsJsonError(r.response, 408, "request_timeout"));
      EXPECT_EQ(r.response.json().value("retryable", false), true);
      EXPECT_FALSE(r.response.keep_alive);
      EXPECT_TRUE(conn.wait_closed(1s)) << "connection left open after 408";
    } else {
      EXPECT_EQ(r.raw, "") << "closed in the middle of a response";
    }
    EXPECT_GE(elapsed, 0.8) << "timed out too early";
    EXPECT_LE(elapsed, 1.6) << "trickling bytes extended the deadline";
    EXPECT_FALSE(server_->wait_exit(50ms).has_value())
        << "the server died after timing out a request\n"
        << server_->describe();
  }

  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string error_;
};

TEST_F(TimeoutsTest, SlowLorisHeadersTimeOut) {
  expect_timeout_while_trickling("GET /health HTTP/1.1\r\nHost: x\r\n", "X-Trickle: 1\r\n");
}

TEST_F(TimeoutsTest, SlowBodyTimesOut) {
  expect_timeout_while_trickling(
      "POST /v1/nonexistent HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789", "x");
}

TEST_F(TimeoutsTest, SilentConnectionIsClosed) {
  HttpConnection conn(port());
  const auto start = Clock::now();
  std::string received;
  ASSERT_TRUE(conn.wait_closed(3s, &received)) << "a connection that sent nothing stayed open";
  const double elapsed = seconds_since(start);
  EXPECT_GE(elapsed, 0.8);
  EXPECT_LE(elapsed, 1.6);
}

TEST_F(TimeoutsTest, IdleKeepAliveConnectionIsClosed) {
  HttpConnection conn(port());
  const HttpResponse res = conn.roundtrip(make_request("GET", "/health"));
  ASSERT_EQ(res.status, 200u);
  ASSERT_TRUE(res.keep_alive);
  const auto idle_since = Clock::now();
  std::string received;
  ASSERT_TRUE(conn.wait_closed(3s, &received)) << "idle connection still open after 3 s";
  const double elapsed = seconds_since(idle_since);
  EXPECT_GE(elapsed, 0.8) << "closed before the idle timeout";
  EXPECT_LE(elapsed, 2.0);
  EXPECT_EQ(received, "") << "the server sent something on an idle connection";
}

TEST_F(TimeoutsTest, EachRequestRestartsTheIdleTimer) {
  HttpConnection conn(port());
  // 4 x 400 ms of idleness: 1.6 s in all, but never 1 s at a stretch.
  for (int i = 0; i < 4; ++i) {
    const HttpResponse res = conn.roundtrip(make_request("GET", "/health"));
    ASSERT_EQ(res.status, 200u) << "request " << i;
    ASSERT_TRUE(res.keep_alive);
    std::this_thread::sleep_for(400ms);
  }
  EXPECT_EQ(conn.roundtrip(make_request("GET", "/ready")).status, 200u);
}

TEST_F(TimeoutsTest, PromptRequestsAreUnaffected) {
  // A request split over a few writes, well within the read timeout.
  HttpConnection conn(port());
  ASSERT_TRUE(conn.send("GET /hea"));
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(conn.send("lth HTTP/1.1\r\nHost: x\r\n"));
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(conn.send("\r\n"));
  EXPECT_EQ(conn.read(2s).status, 200u);
}

}  // namespace
}  // namespace scribepod::testing
