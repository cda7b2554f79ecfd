// Request limits: 413 for bodies over server.max_body_bytes (declared or
// chunked), 431 for oversized headers, 400 for malformed requests.
#include <gtest/gtest.h>

#include <cstdio>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

constexpr std::size_t kBodyLimit = 1024;

std::string chunked(const std::vector<std::string>& chunks) {
  std::string out;
  for (const auto& c : chunks) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", c.size());
    out += size;
    out += c;
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

class LimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ =
        try_serve({"--set", "server.max_body_bytes=1KiB", "--set", "server.max_header_bytes=2KiB"},
                  {}, error_);
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_NE(server_, nullptr) << error_; }
  static std::uint16_t port() { return server_->port(); }

  // Sends `raw`, expects an error response with `status`/`code` and then
  // the connection closed.
  static void expect_error_and_close(const std::string& raw, unsigned status, const char* code) {
    HttpConnection conn(port());
    conn.send(raw);  // the server may stop reading early; a failed send is fine
    const ReadResult r = conn.try_read(3s);
    ASSERT_EQ(r.outcome, ReadOutcome::kResponse) << r.error << "\nreceived: " << r.raw;
    EXPECT_TRUE(IsJsonError(r.response, status, code));
    EXPECT_FALSE(r.response.keep_alive) << r.response.head_text();
    EXPECT_TRUE(conn.wait_closed(2s)) << "the connection stayed open after " << status;
    EXPECT_FALSE(server_->wait_exit(50ms).has_value())
        << "the server died after answering " << status << "\n"
        << server_->describe();
  }

  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string error_;
};

TEST_F(LimitsTest, DeclaredBodyOverLimitIsRefusedBeforeItArrives) {
  HttpConnection conn(port());
  // Headers only: the 413 must come from Content-Length alone.
  ASSERT_TRUE(
      conn.send("POST /v1/nonexistent HTTP/1.1\r\nHost: x\r\nContent-Type: "
                "application/octet-stream\r\nContent-Length: 5000\r\n\r\n"));
  const ReadResult r = conn.try_read(2s);
  ASSERT_EQ(r.outcome, ReadOutcome::kResponse) << r.error << "\nreceived: " << r.raw;
  EXPECT_TRUE(IsJsonError(r.response, 413, "payload_too_large"));
  EXPECT_EQ(r.response.json().value("retryable", true), false);
  EXPECT_FALSE(r.response.keep_alive);
  EXPECT_FALSE(r.response.header("X-Request-Id").empty()) << r.response.head_text();
  EXPECT_TRUE(conn.wait_closed(2s));
}

TEST_F(LimitsTest, DeclaredBodyOverLimitWithBodySent) {
  expect_error_and_close(make_request("POST", "/v1/nonexistent", {}, std::string(5000, 'x')), 413,
                         "payload_too_large");
}

TEST_F(LimitsTest, ChunkedBodyOverLimitIs413) {
  expect_error_and_close(
      make_request("POST", "/v1/nonexistent", {{"Transfer-Encoding", "chunked"}},
                   chunked({std::string(600, 'a'), std::string(600, 'b'), std::string(600, 'c')})),
      413, "payload_too_large");
}

TEST_F(LimitsTest, BodyAtTheLimitIsAccepted) {
  HttpConnection conn(port());
  // Exactly the limit, declared and chunked: routed (404), not refused.
  const HttpResponse a =
      conn.roundtrip(make_request("POST", "/v1/nonexistent", {}, std::string(kBodyLimit, 'x')));
  EXPECT_TRUE(IsJsonError(a, 404, "not_found"));
  EXPECT_TRUE(a.keep_alive);
  const HttpResponse b = conn.roundtrip(
      make_request("POST", "/v1/nonexistent", {{"Transfer-Encoding", "chunked"}},
                   chunked({std::string(kBodyLimit / 2, 'a'), std::string(kBodyLimit / 2, 'b')})));
  EXPECT_TRUE(IsJsonError(b, 404, "not_found"));
}

TEST_F(LimitsTest, OneByteOverTheLimitIs413) {
  expect_error_and_close(
      make_request("POST", "/v1/nonexistent", {}, std::string(kBodyLimit + 1, 'x')), 413,
      "payload_too_large");
}

TEST_F(LimitsTest, OversizedHeaderIs431) {
  expect_error_and_close(make_request("GET", "/health", {{"X-Big", std::string(3000, 'a')}}), 431,
                         "headers_too_large");
}

TEST_F(LimitsTest, ManyHeadersOverLimitIs431) {
  Headers many;
  for (int i = 0; i < 100; ++i) many.emplace_back("X-Header-" + std::to_string(i), "value-value");
  expect_error_and_close(make_request("GET", "/health", many), 431, "headers_too_large");
}

TEST_F(LimitsTest, HeadersUnderLimitAreFine) {
  const HttpResponse res = http_get(port(), "/health", {{"X-Big", std::string(1500, 'a')}});
  EXPECT_EQ(res.status, 200u) << res.head_text();
}

TEST_F(LimitsTest, MalformedRequestLineIs400AndCloses) {
  expect_error_and_close("GARBAGE\r\n\r\n", 400, "bad_request");
}

TEST_F(LimitsTest, BadHttpVersionIs400) {
  expect_error_and_close("GET /health HTTX/1.1\r\nHost: x\r\n\r\n", 400, "bad_request");
}

TEST_F(LimitsTest, MalformedHeaderLineIs400) {
  expect_error_and_close("GET /health HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400,
                         "bad_request");
}

TEST_F(LimitsTest, InvalidContentLengthIs400) {
  expect_error_and_close(
      "POST /v1/nonexistent HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n", 400,
      "bad_request");
}

TEST_F(LimitsTest, BadChunkEncodingIs400) {
  expect_error_and_close(
      "POST /v1/nonexistent HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
      "chunked\r\n\r\nzz\r\nhello\r\n",
      400, "bad_request");
}

TEST_F(LimitsTest, ServerSurvivesBadRequests) {
  // After all the refusals above (or alone), normal service continues.
  expect_error_and_close("\x01\x02\x03 / HTTP/1.1\r\n\r\n", 400, "bad_request");
  EXPECT_EQ(http_get(port(), "/health").status, 200u);
}

}  // namespace
}  // namespace scribepod::testing
