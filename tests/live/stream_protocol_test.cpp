#include "live/stream_protocol.h"

#include <gtest/gtest.h>

namespace scribepod::live {
namespace {

TEST(StreamProtocol, ParsesStartWithEveryField) {
  auto p = parse_client_message(
      R"({"type":"start","sample_rate":48000,"encoding":"opus","session_id":"abc",)"
      R"("resume_token":"t0k","last_final":4,"last_thoughts":3,"language":"en","extra":1})");
  ASSERT_TRUE(p.ok()) << p.error.message;
  const auto& s = std::get<StartMessage>(*p.message);
  EXPECT_EQ(s.sample_rate, 48000);
  EXPECT_EQ(s.encoding, AudioEncoding::kOpus);
  EXPECT_EQ(s.session_id, "abc");
  EXPECT_EQ(s.resume_token, "t0k");
  EXPECT_EQ(s.last_final, 4);
  EXPECT_EQ(s.last_thoughts, 3);
  EXPECT_EQ(s.language, "en");
}

TEST(StreamProtocol, ParsesControlMessages) {
  auto e = parse_client_message(R"({"type":"end_of_turn"})");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(std::holds_alternative<EndOfTurnMessage>(*e.message));
  auto s = parse_client_message(R"( {"type":"stop"} )");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(std::holds_alternative<StopMessage>(*s.message));
}

struct BadCase {
  const char* text;
  int close_code;
};

TEST(StreamProtocol, RejectsWithTheDocumentedCloseCode) {
  const BadCase cases[] = {
      {"{", 1007},
      {"", 1007},
      {"[1,2]", 1007},
      {R"({"kind":"start"})", 1007},
      {R"({"type":"dance"})", 1007},
      {R"({"type":7})", 1007},
      {R"({"type":"start","encoding":"pcm16"})", 1007},
      {R"({"type":"start","sample_rate":"16000","encoding":"pcm16"})", 1007},
      {R"({"type":"start","sample_rate":16000.5,"encoding":"pcm16"})", 1007},
      {R"({"type":"start","sample_rate":7999,"encoding":"pcm16"})", 1007},
      {R"({"type":"start","sample_rate":48001,"encoding":"pcm16"})", 1007},
      {R"({"type":"start","sample_rate":16000})", 1007},
      {R"({"type":"start","sample_rate":16000,"encoding":"mp3"})", 1003},
      {R"({"type":"start","sample_rate":16000,"encoding":"pcm16","last_final":-1})", 1007},
      {R"({"type":"start","sample_rate":16000,"encoding":"pcm16","last_final":1.5})", 1007},
      {R"({"type":"start","sample_rate":16000,"encoding":"pcm16","session_id":5})", 1007},
      {R"({"type":"start","sample_rate":16000,"encoding":"pcm16","session_id":"x"})", 1008},
  };
  for (const BadCase& c : cases) {
    auto p = parse_client_message(c.text);
    EXPECT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.error.close_code, c.close_code) << c.text;
    EXPECT_EQ(p.error.code, "bad_request") << c.text;
    EXPECT_FALSE(p.error.message.empty()) << c.text;
  }
}

TEST(StreamProtocol, RejectsOversizedControlMessages) {
  std::string big = R"({"type":"stop","pad":")" + std::string(kMaxControlMessageBytes, 'x') + "\"}";
  EXPECT_FALSE(parse_client_message(big).ok());
}

}  // namespace
}  // namespace scribepod::live
