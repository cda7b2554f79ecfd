// The original REST flow against the real binary (PocketSphinx, heuristic
// thoughts, SQLite history): the original page's exact request sequence,
// validation, sessions and their isolation, admin stats, history, and a
// restart that loses nothing.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

constexpr const char* kAdminKey = "admin-key-conversations";
constexpr const char* kBoundary = "----scribepod-test-boundary";
const std::string kSpeechDir = "/usr/share/pocketsphinx/test/data";

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Encodes raw 16 kHz s16le speech into `format` (ogg = Ogg/Opus, the
// original page's MediaRecorder output; wav) with ffmpeg.
std::string encode(const TempDir& dir, const std::string& raw, const std::string& name,
                   const std::string& args) {
  const auto out = dir.path() / name;
  const std::string cmd = "ffmpeg -nostdin -loglevel error -y -f s16le -ar 16000 -ac 1 -i '" +
                          kSpeechDir + "/" + raw + "' " + args + " '" + out.string() + "'";
  if (std::system(cmd.c_str()) != 0) return {};
  return read_all(out);
}

std::string multipart(const std::string& field, const std::string& data,
                      const std::string& type = "audio/ogg") {
  std::string body = std::string("--") + kBoundary + "\r\n";
  body += "Content-Disposition: form-data; name=\"" + field + "\"; filename=\"blob\"\r\n";
  body += "Content-Type: " + type + "\r\n\r\n" + data + "\r\n--" + kBoundary + "--\r\n";
  return body;
}

Headers form_headers(const std::string& session = {}) {
  Headers h = {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary}};
  if (!session.empty()) h.emplace_back("X-Session-Id", session);
  return h;
}

class ConversationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    // One Ogg page per second of audio, as MediaRecorder's 1 s timeslices.
    go_ogg_ =
        encode(*dir_, "goforward.raw", "go.ogg", "-c:a libopus -b:a 24k -page_duration 1000000");
    digits_wav_ = encode(*dir_, "tidigits/dhd.2934z.raw", "digits.wav", "");
    server_ = try_serve({}, {{"ADMIN_API_KEY", kAdminKey}}, error_);
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << error_;
    ASSERT_FALSE(go_ogg_.empty()) << "ffmpeg could not make the Ogg/Opus sample";
    ASSERT_FALSE(digits_wav_.empty());
  }
  static std::uint16_t port() { return server_->port(); }

  static HttpResponse post_chunk(int chunk, const std::string& audio, const std::string& session,
                                 const std::string& type = "audio/ogg",
                                 const std::string& idempotency_key = {}) {
    // A recognition on a loaded 2-core machine (CI, parallel tests) may take
    // longer than the client's default 5 s: wait up to 30 s.
    HttpConnection conn(port());
    Headers headers = form_headers(session);
    if (!idempotency_key.empty()) headers.emplace_back("Idempotency-Key", idempotency_key);
    conn.send(make_request("POST", "/conversation?chunk=" + std::to_string(chunk), headers,
                           multipart("audio_data", audio, type)));
    return conn.read(std::chrono::seconds(30));
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string error_;
  static inline std::string go_ogg_;
  static inline std::string digits_wav_;
};

void expect_conversation_shape(const nlohmann::json& j) {
  ASSERT_TRUE(j.is_object()) << j;
  EXPECT_TRUE(j["sessionId"].is_string());
  EXPECT_TRUE(j["transcriptionResponse"].is_string());
  const auto& state = j["conversationState"];
  for (const char* k : {"thoughts", "derived_intent", "subject_is", "responses"}) {
    ASSERT_TRUE(state[k].is_array()) << k << " in " << state;
    EXPECT_LE(state[k].size(), 5U) << k;
    std::set<std::string> distinct;
    for (const auto& v : state[k]) distinct.insert(v.get<std::string>());
    EXPECT_EQ(distinct.size(), state[k].size()) << k << " has duplicates";
  }
}

// The original page: MediaRecorder chunks every second, the whole recording
// so far re-posted as chunk=1, 2, 3, ..., then silence_detect at the space
// bar. A growing Ogg file is a prefix of the final one.
TEST_F(ConversationTest, ReplaysTheOriginalPagesRequestSequence) {
  // Cut points: the start of every audio page after the first (pages 0 and
  // 1 are the OpusHead and OpusTags headers), then the whole file.
  std::vector<std::size_t> cuts;
  for (std::size_t at = go_ogg_.find("OggS"); at != std::string::npos;
       at = go_ogg_.find("OggS", at + 4)) {
    cuts.push_back(at);
  }
  ASSERT_GE(cuts.size(), 4U) << "expected several audio pages";
  cuts.erase(cuts.begin(), cuts.begin() + 3);
  cuts.push_back(go_ogg_.size());
  const std::size_t parts = cuts.size();
  std::string session;
  std::string last_text;
  for (std::size_t n = 1; n <= parts; ++n) {
    const std::string prefix = go_ogg_.substr(0, cuts[n - 1]);
    const HttpResponse res = post_chunk(static_cast<int>(n), prefix, session);
    ASSERT_EQ(res.status, 200u) << res.head_text() << res.body;
    const auto j = res.json();
    expect_conversation_shape(j);
    if (session.empty()) session = j["sessionId"];
    EXPECT_EQ(j["sessionId"], session) << "chunk " << n << " changed the session";
    EXPECT_EQ(res.header("X-Session-Id"), session);
    last_text = j["transcriptionResponse"];
  }
  EXPECT_EQ(last_text, "go forward ten meters");

  // The whole utterance replaced chunks 1..N: one utterance stored.
  const auto history = http_get(port(), "/v1/sessions/" + session).json();
  ASSERT_EQ(history["utterances"].size(), 1U) << history;
  EXPECT_EQ(history["utterances"][0]["text"], "go forward ten meters");
  EXPECT_EQ(history["thoughts"][0]["engine"], "heuristic");

  // A second utterance starts with chunk=1 again.
  const auto second = post_chunk(1, digits_wav_, session, "audio/wav");
  ASSERT_EQ(second.status, 200u) << second.body;
  EXPECT_EQ(second.json()["transcriptionResponse"], "two nine three four zero");
  const auto state = second.json()["conversationState"];
  EXPECT_GE(state["responses"].size(), 1U);

  const auto silence = http_get(port(), "/silence_detect",
                                {{"X-Session-Id", session}, {"Accept", "application/json"}});
  ASSERT_EQ(silence.status, 200u) << silence.body;
  EXPECT_EQ(silence.json()["stateType"], "done");
  EXPECT_EQ(silence.json()["response"], state["responses"].back());
  const auto plain = http_get(port(), "/silence_detect", {{"X-Session-Id", session}});
  EXPECT_EQ(plain.body, state["responses"].back().get<std::string>());

  const auto after = http_get(port(), "/v1/sessions/" + session).json();
  EXPECT_EQ(after["utterances"].size(), 2U);
  EXPECT_EQ(after["thoughts"].size(), 2U);
}

TEST_F(ConversationTest, RejectsBadInputWithClearErrors) {
  for (const char* chunk : {"0", "-1", "abc", "1.5", ""}) {
    const auto res = http_post(port(), std::string("/conversation?chunk=") + chunk,
                               multipart("audio_data", digits_wav_), form_headers());
    EXPECT_TRUE(IsJsonError(res, 400, "bad_request")) << chunk;
  }
  EXPECT_TRUE(IsJsonError(
      http_post(port(), "/conversation", multipart("audio_data", digits_wav_), form_headers()), 400,
      "bad_request"));
  EXPECT_TRUE(IsJsonError(
      http_post(port(), "/conversation?chunk=1", multipart("other", digits_wav_), form_headers()),
      400, "bad_request"));
  EXPECT_TRUE(IsJsonError(post_chunk(1, "this is not audio at all, just text", ""), 415,
                          "unsupported_media_type"));
  EXPECT_TRUE(IsJsonError(post_chunk(1, digits_wav_, "not-a-uuid"), 400, "bad_request"));
  EXPECT_TRUE(IsJsonError(http_get(port(), "/silence_detect", {{"X-Session-Id", "x"}}), 400,
                          "bad_request"));
  EXPECT_TRUE(IsJsonError(http_get(port(), "/v1/sessions/not-a-uuid"), 400, "bad_request"));
  EXPECT_TRUE(IsJsonError(http_get(port(), "/v1/sessions/3f2b8c1e-9a4d-4c7e-8b1f-0d2e6a5c7b90"),
                          404, "not_found"));
  for (const char* body : {"", "{", R"({"conversation_speech": []})",
                           R"({"conversation_speech": [42]})", R"({"speech": ["x"]})"}) {
    EXPECT_TRUE(IsJsonError(
        http_post(port(), "/generate_thots", body, {{"Content-Type", "application/json"}}), 400,
        "bad_request"))
        << body;
  }
}

// A client that lost a response (or got the thoughts engine's error after
// the utterance was stored) retries under the same Idempotency-Key: the
// utterance is stored once.
TEST_F(ConversationTest, ARetryUnderTheSameIdempotencyKeyIsStoredOnce) {
  const auto first = post_chunk(1, digits_wav_, "", "audio/wav", "utterance-1");
  ASSERT_EQ(first.status, 200u) << first.body;
  const std::string session = first.json()["sessionId"];
  const auto retry = post_chunk(1, digits_wav_, session, "audio/wav", "utterance-1");
  ASSERT_EQ(retry.status, 200u) << retry.body;
  EXPECT_EQ(retry.json()["transcriptionResponse"], "two nine three four zero");
  auto history = http_get(port(), "/v1/sessions/" + session).json();
  EXPECT_EQ(history["utterances"].size(), 1U) << history;

  const auto second = post_chunk(1, go_ogg_, session, "audio/ogg", "utterance-2");
  ASSERT_EQ(second.status, 200u) << second.body;
  // The first key, once the conversation has gone on: refused, nothing stored.
  EXPECT_TRUE(IsJsonError(post_chunk(1, digits_wav_, session, "audio/wav", "utterance-1"), 400,
                          "bad_request"));
  EXPECT_TRUE(IsJsonError(post_chunk(1, digits_wav_, session, "audio/wav", "two words"), 400,
                          "bad_request"));
  // It is refused before the audio is transcribed: audio that cannot be
  // decoded gets the key's error, not the decoder's.
  const auto stale = post_chunk(1, "not audio at all", session, "audio/wav", "utterance-1");
  EXPECT_TRUE(IsJsonError(stale, 400, "bad_request"));
  EXPECT_NE(stale.body.find("Idempotency-Key"), std::string::npos) << stale.body;
  history = http_get(port(), "/v1/sessions/" + session).json();
  ASSERT_EQ(history["utterances"].size(), 2U) << history;
  EXPECT_EQ(history["utterances"][1]["text"], "go forward ten meters");
}

TEST_F(ConversationTest, UnknownSessionIdStartsANewSessionUnderANewId) {
  const std::string unknown = "3f2b8c1e-9a4d-4c7e-8b1f-0d2e6a5c7b90";
  const auto res = post_chunk(1, digits_wav_, unknown, "audio/wav");
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_NE(res.json()["sessionId"], unknown);
  EXPECT_EQ(res.header("X-Session-Id"), res.json()["sessionId"]);
}

TEST_F(ConversationTest, GenerateThotsAnswersTheFiveFieldsAndNamesTheEngine) {
  const auto res = http_post(
      port(), "/generate_thots",
      R"({"conversation_speech": ["person: hello there", "person: could you help me find a good book about sailing?"]})",
      {{"Content-Type", "application/json"}});
  ASSERT_EQ(res.status, 200u) << res.body;
  const auto j = res.json();
  for (const char* k : {"intent", "person_is", "extra_state", "thoughts", "response"}) {
    ASSERT_TRUE(j[k].is_string()) << k;
    EXPECT_FALSE(j[k].get<std::string>().empty()) << k;
  }
  EXPECT_EQ(j["engine"], "heuristic");
}

TEST_F(ConversationTest, ParallelClientsKeepTheirOwnConversations) {
  constexpr int kClients = 4;
  std::vector<std::future<std::string>> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::async(std::launch::async, [c]() -> std::string {
      // Even clients say the digits, odd ones the command, twice each.
      const bool digits = c % 2 == 0;
      std::string session;
      for (int turn = 0; turn < 2; ++turn) {
        const auto res = digits ? post_chunk(1, digits_wav_, session, "audio/wav")
                                : post_chunk(1, go_ogg_, session);
        if (res.status != 200) return "status " + std::to_string(res.status) + " " + res.body;
        const std::string id = res.json()["sessionId"];
        if (!session.empty() && id != session) return "session changed";
        session = id;
      }
      const auto history = http_get(port(), "/v1/sessions/" + session).json();
      const std::string want = digits ? "two nine three four zero" : "go forward ten meters";
      if (history["utterances"].size() != 2) return "expected 2 utterances: " + history.dump();
      for (const auto& u : history["utterances"]) {
        if (u["text"] != want) return "cross-talk: " + history.dump();
      }
      return {};
    }));
  }
  for (auto& f : clients) EXPECT_EQ(f.get(), "");
}

TEST_F(ConversationTest, SessionStatsNeedTheAdminKeyAndListSessions) {
  const std::string a = post_chunk(1, digits_wav_, "", "audio/wav").json()["sessionId"];
  const std::string b = post_chunk(1, digits_wav_, "", "audio/wav").json()["sessionId"];
  EXPECT_EQ(http_get(port(), "/sessions/stats").status, 401u);
  const auto stats =
      http_get(port(), "/sessions/stats", {{"Authorization", std::string("Bearer ") + kAdminKey}});
  ASSERT_EQ(stats.status, 200u) << stats.body;
  const nlohmann::json body = stats.json();
  std::set<std::string> ids;
  for (const auto& s : body["sessions"]) ids.insert(s["sessionId"].get<std::string>());
  EXPECT_TRUE(ids.count(a) && ids.count(b)) << stats.body;
  EXPECT_GE(stats.json()["activeSessions"].get<int>(), 2);
  EXPECT_GE(http_get(port(), "/health").json()["activeSessions"].get<int>(), 2);
}

TEST(ConversationRestart, ARestartLosesNoStoredUtteranceAndRestoresTheSession) {
  TempDir data;
  const std::string wav = [&] {
    TempDir tmp;
    return encode(tmp, "tidigits/dhd.2934z.raw", "d.wav", "");
  }();
  ASSERT_FALSE(wav.empty());
  const Env env = {{"SCRIBEPOD_DATA_DIR", data.path().string()}};
  std::string session;
  {
    auto server = ServerProcess::serve({}, env);
    const auto res = http_post(server->port(), "/conversation?chunk=1",
                               multipart("audio_data", wav, "audio/wav"), form_headers());
    ASSERT_EQ(res.status, 200u) << res.body;
    session = res.json()["sessionId"];
    server->send_signal(SIGTERM);
    ASSERT_EQ(server->wait_exit(15s), 0);
  }
  auto server = ServerProcess::serve({}, env);
  const auto history = http_get(server->port(), "/v1/sessions/" + session).json();
  ASSERT_EQ(history["utterances"].size(), 1U) << history;
  EXPECT_EQ(history["utterances"][0]["text"], "two nine three four zero");
  // The holder of the id continues the same conversation.
  const auto res = http_post(server->port(), "/conversation?chunk=1",
                             multipart("audio_data", wav, "audio/wav"), form_headers(session));
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(res.json()["sessionId"], session);
  EXPECT_EQ(http_get(server->port(), "/v1/sessions/" + session).json()["utterances"].size(), 2U);
}

}  // namespace
}  // namespace scribepod::testing
