// The client's control messages on /v1/stream (docs/streaming.md): `start`,
// `end_of_turn` and `stop`, one JSON object per text frame.
//
// parse_client_message() is the only code that reads them. It accepts
// exactly what the contract documents and nothing else: unknown fields are
// ignored, but a missing or mistyped field, an unknown `type` or anything
// that is not a JSON object is a ProtocolError that names the problem and
// carries the close code the contract assigns (1007 for malformed input,
// 1003 for an unknown encoding). Depends on core and nlohmann_json only, so
// it can be fuzzed (fuzz/stream_protocol_fuzz.cpp). Pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace scribepod::live {

enum class AudioEncoding { kPcm16, kOpus };

struct StartMessage {
  int sample_rate = 16000;  // 8000..48000
  AudioEncoding encoding = AudioEncoding::kPcm16;
  std::string session_id;    // "" = a new session
  std::string resume_token;  // required with session_id
  std::optional<int64_t> last_final;
  std::optional<int64_t> last_thoughts;
  std::string language;  // "" = the server's
};

struct EndOfTurnMessage {};
struct StopMessage {};

using ClientMessage = std::variant<StartMessage, EndOfTurnMessage, StopMessage>;

// A protocol violation: the `error` event to send and the close code after it.
struct ProtocolError {
  std::string code = "bad_request";  // error.code in the event
  std::string message;
  int close_code = 1007;
};

struct ParsedMessage {
  std::optional<ClientMessage> message;
  ProtocolError error;  // meaningful when message is empty
  bool ok() const { return message.has_value(); }
};

// Limits on what a text frame may hold; longer frames are rejected before
// they are parsed.
inline constexpr std::size_t kMaxControlMessageBytes = 8 * 1024;
inline constexpr int kMinSampleRate = 8000;
inline constexpr int kMaxSampleRate = 48000;

ParsedMessage parse_client_message(std::string_view text);

std::string_view encoding_name(AudioEncoding encoding);

}  // namespace scribepod::live
