#include "remote/http_client.h"

#include <gtest/gtest.h>

#include <iostream>

#include "test_peer.h"

namespace scribepod::remote {
namespace {

using scribepod::testing::ScriptedResponse;
using scribepod::testing::TestPeer;
using std::chrono::milliseconds;

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

TEST(HttpClientTest, GetReturnsStatusLowercasedHeadersAndBody) {
  TestPeer peer;
  peer.push({.status = 200,
             .headers = {{"X-Trace-Id", "abc"}, {"Content-Type", "text/plain"}},
             .body = "hello"});
  HttpClient client;
  auto r = client.send(
      {.method = "GET", .url = peer.url() + "/v1/models?x=1", .headers = {{"X-Custom", "7"}}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->headers.at("x-trace-id"), "abc");
  EXPECT_EQ(r->header("Content-Type"), "text/plain");
  EXPECT_GT(r->elapsed_ms, 0.0);
  const auto seen = peer.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/v1/models?x=1");
  EXPECT_EQ(seen[0].header("x-custom"), "7");
  EXPECT_EQ(seen[0].header("expect"), "");  // no 100-continue round trip
}

TEST(HttpClientTest, ErrorStatusIsAResponseNotAnError) {
  TestPeer peer;
  peer.push({.status = 503, .body = "busy"});
  auto r = HttpClient().send({.url = peer.url()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "busy");
}

TEST(HttpClientTest, PostsBodyAndMultipart) {
  TestPeer peer;
  HttpClient client;
  ASSERT_TRUE(client
                  .send({.method = "POST",
                         .url = peer.url() + "/json",
                         .headers = {{"Content-Type", "application/json"}},
                         .body = R"({"a":1})"})
                  .ok());
  const std::string binary("\x00\x01RIFF\xff", 7);
  ASSERT_TRUE(client
                  .send({.method = "POST",
                         .url = peer.url() + "/upload",
                         .multipart = {{"file", "a.wav", "audio/wav", binary},
                                       {"model", "", "", "whisper-1"}}})
                  .ok());
  const auto seen = peer.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].body, R"({"a":1})");
  EXPECT_EQ(seen[0].header("content-type"), "application/json");
  EXPECT_NE(seen[1].header("content-type").find("multipart/form-data; boundary="),
            std::string::npos);
  EXPECT_NE(seen[1].body.find(R"(name="file"; filename="a.wav")"), std::string::npos);
  EXPECT_NE(seen[1].body.find("Content-Type: audio/wav\r\n\r\n" + binary), std::string::npos);
  EXPECT_NE(seen[1].body.find("name=\"model\"\r\n\r\nwhisper-1\r\n"), std::string::npos);
}

TEST(HttpClientTest, ConnectionRefusedIsUpstreamFailedNamingTheUrl) {
  const int port = scribepod::testing::unused_port();
  const auto ex =
      HttpClient().exchange({.url = "http://127.0.0.1:" + std::to_string(port) + "/x?key=secret"});
  ASSERT_FALSE(ex.result.ok());
  EXPECT_EQ(ex.failure, TransportFailure::kConnect);
  EXPECT_EQ(ex.result.error().code, ErrorCode::kUpstreamFailed);
  const std::string& m = ex.result.error().message;
  EXPECT_NE(m.find("cannot connect to http://127.0.0.1:" + std::to_string(port) + "/x"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("secret"), std::string::npos) << m;
}

TEST(HttpClientTest, UnresolvableHostIsConnectFailure) {
  HttpClient client({.connect_timeout = milliseconds(3000), .total_timeout = milliseconds(3000)});
  const auto ex = client.exchange({.url = "http://no-such-host.invalid/"});
  ASSERT_FALSE(ex.result.ok());
  // ".invalid" never resolves (RFC 6761). A machine whose configured DNS
  // server is unreachable reports that as a resolver timeout instead; both
  // are retryable, neither may look like a response.
  if (ex.failure == TransportFailure::kTimeout) {
    EXPECT_EQ(ex.result.error().code, ErrorCode::kUpstreamTimeout);
    return;
  }
  EXPECT_EQ(ex.failure, TransportFailure::kConnect);
  EXPECT_EQ(ex.result.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(ex.result.error().message.rfind("cannot connect to http://no-such-host.invalid/", 0),
            0u)
      << ex.result.error().message;
}

TEST(HttpClientTest, SlowServerTimesOutWithinTotalTimeout) {
  TestPeer peer;
  peer.push({.status = 200, .body = "late", .delay = milliseconds(3000)});
  HttpClient client({.connect_timeout = milliseconds(1000), .total_timeout = milliseconds(300)});
  const auto start = std::chrono::steady_clock::now();
  const auto ex = client.exchange({.url = peer.url()});
  const double took = ms_since(start);
  std::cout << "[timing] total_timeout=300ms, call returned after " << took << " ms\n";
  ASSERT_FALSE(ex.result.ok());
  EXPECT_EQ(ex.failure, TransportFailure::kTimeout);
  EXPECT_EQ(ex.result.error().code, ErrorCode::kUpstreamTimeout);
  EXPECT_GE(took, 290.0);
  EXPECT_LT(took, 300.0 + 250.0);
}

TEST(HttpClientTest, ResponseOverLimitIsRejected) {
  TestPeer peer;
  const std::string big(2 * 1024 * 1024, 'x');
  peer.push({.status = 200, .body = big});                               // Content-Length says so
  peer.push({.status = 200, .body = big, .omit_content_length = true});  // only the bytes say so
  peer.push({.status = 200, .body = std::string(1024 * 1024, 'y')});     // exactly at the limit
  HttpClient client({.max_response_bytes = 1024 * 1024});
  for (int i = 0; i < 2; ++i) {
    const auto ex = client.exchange({.url = peer.url()});
    ASSERT_FALSE(ex.result.ok()) << i;
    EXPECT_EQ(ex.failure, TransportFailure::kTooLarge) << i;
    EXPECT_EQ(ex.result.error().code, ErrorCode::kUpstreamFailed);
    EXPECT_NE(ex.result.error().message.find("larger than the limit of 1048576 bytes"),
              std::string::npos);
  }
  const auto ok = client.exchange({.url = peer.url()});
  ASSERT_TRUE(ok.result.ok()) << ok.result.error().message;
  EXPECT_EQ(ok.result->body.size(), 1024u * 1024u);
}

TEST(HttpClientTest, DroppedConnectionIsRetryableKind) {
  TestPeer peer;
  peer.push({.drop = true});
  const auto ex = HttpClient().exchange({.url = peer.url()});
  ASSERT_FALSE(ex.result.ok());
  EXPECT_EQ(ex.failure, TransportFailure::kDropped);
  EXPECT_EQ(ex.result.error().code, ErrorCode::kUpstreamFailed);
}

TEST(HttpClientTest, MalformedUrlIsOtherFailure) {
  const auto ex = HttpClient().exchange({.url = "ftp://127.0.0.1/file"});
  ASSERT_FALSE(ex.result.ok());
  EXPECT_EQ(ex.failure, TransportFailure::kOther);
}

TEST(HttpClientTest, ConcurrentCallsShareOneClient) {
  TestPeer peer;
  peer.set_default({.status = 200, .body = "ok", .delay = milliseconds(20)});
  HttpClient client;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto r = client.send({.url = peer.url()});
        if (r.ok() && r->body == "ok") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(peer.request_count(), 40u);
}

TEST(RedactUrlTest, DropsUserInfoAndQuery) {
  EXPECT_EQ(redact_url("https://user:pw@api.example.com:8443/v1/x?key=k#f"),
            "https://api.example.com:8443/v1/x");
  EXPECT_EQ(redact_url("http://127.0.0.1:9/a@b"), "http://127.0.0.1:9/a@b");
  EXPECT_EQ(redact_url("http://h/p?q=@"), "http://h/p");
  EXPECT_EQ(redact_url("http://h"), "http://h");
}

}  // namespace
}  // namespace scribepod::remote
