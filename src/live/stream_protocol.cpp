#include "live/stream_protocol.h"

#include <nlohmann/json.hpp>

namespace scribepod::live {
namespace {

using nlohmann::json;

ParsedMessage fail(std::string message, int close_code = 1007) {
  ParsedMessage p;
  p.error.message = std::move(message);
  p.error.close_code = close_code;
  return p;
}

// Reads an optional string field; false when present with another type.
bool read_string(const json& j, const char* key, std::string& out, std::size_t max_len) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) return false;
  out = s;
  return true;
}

// Reads an optional non-negative integer field (a JSON integer, not 1.5).
bool read_count(const json& j, const char* key, std::optional<int64_t>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (it->is_number_unsigned()) {
    const auto v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    out = static_cast<int64_t>(v);
    return true;
  }
  if (it->is_number_integer()) {
    const auto v = it->get<int64_t>();
    if (v < 0) return false;
    out = v;
    return true;
  }
  return false;
}

ParsedMessage parse_start(const json& j) {
  StartMessage m;
  auto rate = j.find("sample_rate");
  if (rate == j.end()) return fail("start: sample_rate is required");
  if (!rate->is_number_integer()) return fail("start: sample_rate must be an integer");
  const auto r = rate->get<int64_t>();
  if (r < kMinSampleRate || r > kMaxSampleRate) {
    return fail("start: sample_rate must be between 8000 and 48000");
  }
  m.sample_rate = static_cast<int>(r);

  auto enc = j.find("encoding");
  if (enc == j.end()) return fail("start: encoding is required");
  if (!enc->is_string()) return fail("start: encoding must be a string");
  const auto& e = enc->get_ref<const std::string&>();
  if (e == "pcm16") {
    m.encoding = AudioEncoding::kPcm16;
  } else if (e == "opus") {
    m.encoding = AudioEncoding::kOpus;
  } else {
    return fail("start: unknown encoding (expected pcm16 or opus)", 1003);
  }

  if (!read_string(j, "session_id", m.session_id, 64)) {
    return fail("start: session_id must be a string");
  }
  if (!read_string(j, "resume_token", m.resume_token, 128)) {
    return fail("start: resume_token must be a string");
  }
  if (!read_string(j, "language", m.language, 16)) return fail("start: language must be a string");
  if (!read_count(j, "last_final", m.last_final)) {
    return fail("start: last_final must be a non-negative integer");
  }
  if (!read_count(j, "last_thoughts", m.last_thoughts)) {
    return fail("start: last_thoughts must be a non-negative integer");
  }
  if (!m.session_id.empty() && m.resume_token.empty()) {
    return fail("start: session_id needs its resume_token", 1008);
  }
  ParsedMessage p;
  p.message = std::move(m);
  return p;
}

}  // namespace

ParsedMessage parse_client_message(std::string_view text) {
  if (text.size() > kMaxControlMessageBytes) return fail("control message too long");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail("malformed JSON");
  if (!j.is_object()) return fail("a control message must be a JSON object");
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return fail("a control message needs a string type");
  const auto& t = type->get_ref<const std::string&>();
  ParsedMessage p;
  if (t == "start") return parse_start(j);
  if (t == "end_of_turn") {
    p.message = EndOfTurnMessage{};
  } else if (t == "stop") {
    p.message = StopMessage{};
  } else {
    return fail("unknown message type");
  }
  return p;
}

std::string_view encoding_name(AudioEncoding encoding) {
  return encoding == AudioEncoding::kOpus ? "opus" : "pcm16";
}

}  // namespace scribepod::live
