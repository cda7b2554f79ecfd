// GET /v1/stream against the real `scribepod` binary (PocketSphinx,
// heuristic thoughts, SQLite history), with a Beast WebSocket client:
// docs/streaming.md's events, guarantees, errors and close codes, resume,
// admission (401, 503) and `busy` under overload.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <csignal>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "server_process.h"

namespace scribepod::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::json;

const std::string kSpeechDir = "/usr/share/pocketsphinx/test/data";
constexpr std::size_t kFrameBytes = 3200;  // 100 ms of 16 kHz PCM16

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The status of a hand-made upgrade request to /v1/stream (Beast 1.74's
// client handshake does not return the response of a refused upgrade).
beast::http::response<beast::http::string_body> upgrade(
    std::uint16_t port, const std::string& target,
    std::vector<std::pair<std::string, std::string>> headers = {}) {
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  beast::http::request<beast::http::empty_body> req{beast::http::verb::get, target, 11};
  req.set(beast::http::field::host, "127.0.0.1");
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

// A blocking WebSocket client for /v1/stream. Reads give up after 15 s so a
// silent server fails the test instead of hanging it.
class StreamClient {
 public:
  explicit StreamClient(std::uint16_t port) : ws_(ioc_), port_(port) {}

  // Upgrades; returns the HTTP status (101 on success).
  unsigned open(const std::string& target = "/v1/stream",
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    ws_.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    timeval tv{15, 0};
    setsockopt(ws_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    beast::error_code ec;
    ws_.handshake(response_, "127.0.0.1", target, ec);
    return response_.result_int();
  }

  void text(const std::string& s) {
    ws_.text(true);
    beast::error_code ec;
    ws_.write(net::buffer(s), ec);
  }
  void start(json extra = json::object()) {
    json j = {{"type", "start"}, {"sample_rate", 16000}, {"encoding", "pcm16"}};
    j.update(extra);
    text(j.dump());
  }
  void audio(std::string_view bytes) {
    ws_.binary(true);
    beast::error_code ec;
    ws_.write(net::buffer(bytes.data(), bytes.size()), ec);
  }
  // Sends `pcm` in 100 ms frames, `speed` times faster than real time, then
  // `silence_ms` of zeros the same way.
  void stream(const std::string& pcm, int silence_ms, double speed = 1.0) {
    const std::string all = pcm + std::string(static_cast<std::size_t>(silence_ms) * 32, '\0');
    const auto period = std::chrono::microseconds(static_cast<long>(100'000 / speed));
    auto next = std::chrono::steady_clock::now();
    for (std::size_t off = 0; off < all.size(); off += kFrameBytes) {
      std::this_thread::sleep_until(next);
      audio(std::string_view(all).substr(off, kFrameBytes));
      next += period;
    }
  }
  // The next event; nullopt when the connection ended (close_code() says how).
  std::optional<json> next() {
    beast::flat_buffer buf;
    beast::error_code ec;
    ws_.read(buf, ec);
    if (ec) {
      close_code_ = ec == websocket::error::closed ? static_cast<int>(ws_.reason().code) : -1;
      return std::nullopt;
    }
    return json::parse(beast::buffers_to_string(buf.data()));
  }
  // Events until the close.
  std::vector<json> until_close() {
    std::vector<json> out;
    while (auto e = next()) out.push_back(std::move(*e));
    return out;
  }
  // Events until one of `type` (included); all of them if it never comes.
  std::vector<json> until(const std::string& type) {
    std::vector<json> out;
    while (auto e = next()) {
      out.push_back(std::move(*e));
      if (out.back()["type"] == type) break;
    }
    return out;
  }
  int close_code() const { return close_code_; }
  void drop() {
    beast::error_code ec;
    ws_.next_layer().close(ec);
  }

 private:
  net::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  std::uint16_t port_;
  websocket::response_type response_;
  int close_code_ = 0;
};

std::string describe(const std::vector<json>& events) {
  std::string s;
  for (const auto& e : events) s += e.dump() + "\n";
  return s;
}

// Per docs/streaming.md: seq 1, 2, 3...; per utterance partials with rising
// revisions, one final, then thoughts/stats; never a final twice.
void expect_protocol_guarantees(const std::vector<json>& events) {
  std::map<int, int> last_revision;
  std::set<int> finals;
  int last_final = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json& e = events[i];
    EXPECT_EQ(e.value("seq", -1), static_cast<int>(i) + 1) << describe(events);
    const std::string type = e.value("type", "");
    if (type == "partial") {
      const int u = e["utterance_id"];
      EXPECT_FALSE(finals.count(u)) << "partial after the final of utterance " << u;
      EXPECT_GT(e["revision"].get<int>(), last_revision[u]) << describe(events);
      last_revision[u] = e["revision"];
    } else if (type == "final") {
      const int u = e["utterance_id"];
      EXPECT_TRUE(finals.insert(u).second) << "two finals for utterance " << u;
      EXPECT_GT(u, last_final) << "finals out of order\n" << describe(events);
      last_final = u;
    } else if (type == "thoughts" || type == "stats") {
      EXPECT_TRUE(finals.count(e["utterance_id"].get<int>())) << type << " before its final";
    }
  }
}

std::vector<json> of_type(const std::vector<json>& events, const std::string& type) {
  std::vector<json> out;
  for (const auto& e : events) {
    if (e.value("type", "") == type) out.push_back(e);
  }
  return out;
}

class StreamProtocolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    go_ = read_file(kSpeechDir + "/goforward.raw");
    digits_ = read_file(kSpeechDir + "/tidigits/dhd.2934z.raw");
    server_ = try_serve({}, {}, error_);
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << error_;
    ASSERT_FALSE(go_.empty()) << "goforward.raw is part of pocketsphinx-testdata";
    ASSERT_FALSE(digits_.empty());
  }
  static std::unique_ptr<StreamClient> client() {
    auto c = std::make_unique<StreamClient>(server_->port());
    EXPECT_EQ(c->open(), 101u);
    return c;
  }

  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string error_;
  static inline std::string go_;
  static inline std::string digits_;
};

TEST_F(StreamProtocolTest, StartAnswersWithASessionEvent) {
  auto c = client();
  c->start();
  const auto session = c->next();
  ASSERT_TRUE(session);
  EXPECT_EQ((*session)["type"], "session");
  EXPECT_EQ((*session)["seq"], 1);
  EXPECT_FALSE((*session)["session_id"].get<std::string>().empty());
  EXPECT_FALSE((*session)["resume_token"].get<std::string>().empty());
  EXPECT_EQ((*session)["resumed"], false);
  c->text(R"({"type":"stop"})");
  c->until_close();
  EXPECT_EQ(c->close_code(), 1000);
}

TEST_F(StreamProtocolTest, MalformedJsonGetsAnErrorAndClose1007) {
  auto c = client();
  c->text("{\"type\": \"start\", ");
  const auto events = c->until_close();
  ASSERT_EQ(events.size(), 1u) << describe(events);
  EXPECT_EQ(events[0]["type"], "error");
  EXPECT_EQ(events[0]["code"], "bad_request");
  EXPECT_EQ(c->close_code(), 1007);
}

TEST_F(StreamProtocolTest, AudioBeforeStartGetsClose1003) {
  auto c = client();
  c->audio(std::string(kFrameBytes, '\0'));
  const auto events = c->until_close();
  ASSERT_EQ(events.size(), 1u) << describe(events);
  EXPECT_EQ(events[0]["code"], "bad_request");
  EXPECT_EQ(c->close_code(), 1003);
}

TEST_F(StreamProtocolTest, OversizedFrameGetsPayloadTooLargeAndClose1009) {
  auto c = client();
  c->start();
  ASSERT_EQ(c->next().value_or(json())["type"], "session");
  c->audio(std::string(64 * 1024 + 2, '\0'));
  const auto events = c->until_close();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["type"], "error");
  EXPECT_EQ(events.back()["code"], "payload_too_large");
  EXPECT_EQ(events.back()["seq"], 2);
  EXPECT_EQ(c->close_code(), 1009);
}

// The product: speech at real time gives partials, then exactly one final
// with the words, then thoughts and stats; stop closes with 1000.
TEST_F(StreamProtocolTest, RealSpeechAtRealTimeGivesPartialsOneFinalAndThoughts) {
  auto c = client();
  c->start();
  c->stream(go_, 1000);
  c->text(R"({"type":"stop"})");
  auto events = c->until_close();
  EXPECT_EQ(c->close_code(), 1000) << describe(events);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0]["type"], "session");
  expect_protocol_guarantees(events);
  const auto finals = of_type(events, "final");
  ASSERT_EQ(finals.size(), 1u) << describe(events);
  EXPECT_EQ(finals[0]["text"], "go forward ten meters");
  EXPECT_EQ(finals[0]["utterance_id"], 1);
  EXPECT_EQ(finals[0]["reason"], "silence");
  EXPECT_LT(finals[0]["start_ms"].get<int>(), finals[0]["end_ms"].get<int>());
  EXPECT_GE(of_type(events, "partial").size(), 1u) << describe(events);
  const auto thoughts = of_type(events, "thoughts");
  ASSERT_EQ(thoughts.size(), 1u) << describe(events);
  EXPECT_EQ(thoughts[0]["utterance_id"], 1);
  EXPECT_FALSE(thoughts[0]["response"].get<std::string>().empty());
  EXPECT_EQ(of_type(events, "stats").size(), 1u);
}

// A dropped connection resumes with its token: the finals and thoughts the
// client had not seen are replayed once, the ones it had are not.
TEST_F(StreamProtocolTest, ResumeReplaysMissedFinalsWithoutDuplicates) {
  auto a = client();
  a->start();
  const auto session = a->next().value_or(json());
  ASSERT_EQ(session["type"], "session");
  a->stream(go_, 1000, 2.0);
  auto seen = a->until("stats");  // utterance 1, fully received
  ASSERT_EQ(of_type(seen, "final").size(), 1u) << describe(seen);
  a->stream(digits_, 1000, 2.0);
  a->drop();  // utterance 2's events are never read

  auto b = client();
  b->start({{"session_id", session["session_id"]},
            {"resume_token", session["resume_token"]},
            {"last_final", 1},
            {"last_thoughts", 1}});
  const auto resumed = b->next().value_or(json());
  ASSERT_EQ(resumed["type"], "session") << resumed;
  EXPECT_EQ(resumed["resumed"], true);
  EXPECT_EQ(resumed["session_id"], session["session_id"]);
  b->text(R"({"type":"stop"})");
  const auto events = b->until_close();
  EXPECT_EQ(b->close_code(), 1000) << describe(events);
  const auto finals = of_type(events, "final");
  ASSERT_EQ(finals.size(), 1u) << describe(events);
  EXPECT_EQ(finals[0]["utterance_id"], 2);
  EXPECT_NE(finals[0]["text"].get<std::string>().find("two"), std::string::npos) << finals[0];
  EXPECT_EQ(of_type(events, "thoughts").size(), 1u) << describe(events);
  for (const auto& e : events) EXPECT_NE(e.value("utterance_id", 0), 1) << "replayed twice";
}

TEST_F(StreamProtocolTest, WrongResumeTokenIsRefusedWith1008) {
  auto a = client();
  a->start();
  const auto session = a->next().value_or(json());
  auto b = client();
  b->start({{"session_id", session["session_id"]}, {"resume_token", "00ff"}});
  const auto events = b->until_close();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["code"], "bad_request");
  EXPECT_EQ(b->close_code(), 1008);
}

// Its own server: a 1 s idle timeout would also cut off the speech tests'
// clients while they wait for their final on a busy machine.
TEST(StreamIdleTest, IdleClientTimesOutWith4408) {
  std::string error;
  auto server = try_serve({"--set", "live.idle_timeout=1s"}, {}, error);
  ASSERT_NE(server, nullptr) << error;
  StreamClient c(server->port());
  ASSERT_EQ(c.open(), 101u);
  c.start();
  const auto began = std::chrono::steady_clock::now();
  const auto events = c.until_close();
  const auto waited = std::chrono::steady_clock::now() - began;
  ASSERT_EQ(events.size(), 2u) << describe(events);
  EXPECT_EQ(events[0]["type"], "session");
  EXPECT_EQ(events[1]["code"], "request_timeout");
  EXPECT_EQ(events[1]["seq"], 2);
  EXPECT_EQ(c.close_code(), 4408);
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(4));
}

// SIGTERM with an utterance open: it is finalised and sent, the client is
// told, the stream closes with 1001, and the server exits cleanly.
TEST(StreamShutdownTest, SigtermFlushesTheOpenUtteranceThenCloses1001) {
  std::string error;
  auto server = try_serve({}, {}, error);
  ASSERT_NE(server, nullptr) << error;
  const std::string go = read_file(kSpeechDir + "/goforward.raw");
  StreamClient c(server->port());
  ASSERT_EQ(c.open(), 101u);
  c.start();
  // The recording itself ends in ~0.6 s of silence, enough to close the
  // utterance; cut it 0.2 s after the last word so it is still open.
  c.stream(go.substr(0, 2 * 16000 * 23 / 10), 0, 2.0);
  server->send_signal(SIGTERM);
  const auto events = c.until_close();
  EXPECT_EQ(c.close_code(), 1001) << describe(events);
  expect_protocol_guarantees(events);
  const auto finals = of_type(events, "final");
  ASSERT_EQ(finals.size(), 1u) << describe(events);
  EXPECT_EQ(finals[0]["reason"], "shutdown");
  EXPECT_NE(finals[0]["text"].get<std::string>().find("forward"), std::string::npos);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["code"], "shutting_down");
  EXPECT_EQ(server->wait_exit(std::chrono::seconds(15)), 0);
}

// Admission: API keys (headers or ?api_key=) and the stream cap.
TEST(StreamAdmissionTest, BadApiKeyIs401AndBeyondMaxStreamsIs503) {
  std::string error;
  auto server = try_serve({"--set", "live.max_streams=1"}, {{"API_KEY", "stream-key"}}, error);
  ASSERT_NE(server, nullptr) << error;
  EXPECT_EQ(upgrade(server->port(), "/v1/stream").result_int(), 401u);
  EXPECT_EQ(upgrade(server->port(), "/v1/stream?api_key=nope").result_int(), 401u);
  StreamClient first(server->port());
  EXPECT_EQ(first.open("/v1/stream?api_key=stream-key"), 101u);
  const auto second =
      upgrade(server->port(), "/v1/stream", {{"Authorization", "Bearer stream-key"}});
  EXPECT_EQ(second.result_int(), 503u);
  EXPECT_EQ(second[beast::http::field::retry_after], "1");
  const auto logs = server->stdout_text();
  EXPECT_EQ(logs.find("stream-key"), std::string::npos) << "the key must never be logged";
}

// Overload: several speakers on one recogniser thread. The server says `busy`
// and skips partials, but every utterance still gets its one final.
TEST(StreamOverloadTest, ManyStreamsOnOneDecoderGetBusyButEveryFinal) {
  std::string error;
  auto server =
      try_serve({"--set", "asr.concurrency=1", "--set", "live.idle_timeout=10s"}, {}, error);
  ASSERT_NE(server, nullptr) << error;
  const std::string go = read_file(kSpeechDir + "/goforward.raw");
  constexpr int kStreams = 4;
  std::vector<std::vector<json>> events(static_cast<std::size_t>(kStreams));
  std::vector<int> codes(static_cast<std::size_t>(kStreams));
  std::vector<std::thread> speakers;
  for (int i = 0; i < kStreams; ++i) {
    speakers.emplace_back([&, i] {
      StreamClient c(server->port());
      if (c.open() != 101u) return;
      c.start();
      c.stream(go, 1000, 2.0);
      c.text(R"({"type":"stop"})");
      events[static_cast<std::size_t>(i)] = c.until_close();
      codes[static_cast<std::size_t>(i)] = c.close_code();
    });
  }
  for (auto& t : speakers) t.join();
  std::size_t busy = 0;
  for (int i = 0; i < kStreams; ++i) {
    const auto& ev = events[static_cast<std::size_t>(i)];
    EXPECT_EQ(codes[static_cast<std::size_t>(i)], 1000) << describe(ev);
    expect_protocol_guarantees(ev);
    const auto finals = of_type(ev, "final");
    EXPECT_EQ(finals.size(), 1u) << "stream " << i << "\n" << describe(ev);
    if (!finals.empty()) {
      EXPECT_NE(finals[0]["text"].get<std::string>().find("forward"), std::string::npos);
    }
    busy += of_type(ev, "busy").size();
  }
  EXPECT_GE(busy, 1u) << "4 streams at 2x real time on one decoder must fall behind";
  if (::testing::Test::HasFailure()) {
    for (const auto& line : server->log_lines()) {
      if (line.find("\"stream ") != std::string::npos ||
          line.find("\"info\"") == std::string::npos) {
        std::cerr << line << "\n";
      }
    }
  }
}

}  // namespace
}  // namespace scribepod::testing
