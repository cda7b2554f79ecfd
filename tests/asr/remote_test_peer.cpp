// TEST DOUBLE: see remote_test_peer.h.
//
// Built on the generic loopback peer of tests/remote (library
// scribepod_test_peer).
#include "remote_test_peer.h"

#include "core/ascii.h"

namespace scribepod::testing {
namespace {

std::uint32_t le32(const std::string& s, size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3])) << 24;
}

std::uint16_t le16(const std::string& s, size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(s[at]) |
                                    static_cast<unsigned char>(s[at + 1]) << 8);
}

// Fills the WAV facts of `up` from `wav`; false with wav_problem set when
// the bytes are not a mono 16 kHz PCM16 RIFF/WAVE file.
bool check_wav(const std::string& wav, TranscriptionUpload& up) {
  auto fail = [&](std::string why) {
    up.wav_problem = std::move(why);
    return false;
  };
  if (wav.size() < 12 || wav.compare(0, 4, "RIFF") != 0 || wav.compare(8, 4, "WAVE") != 0) {
    return fail("no RIFF/WAVE header");
  }
  if (le32(wav, 4) != wav.size() - 8) return fail("RIFF size does not match the file");
  size_t at = 12;
  bool have_fmt = false;
  while (at + 8 <= wav.size()) {
    const std::string id = wav.substr(at, 4);
    const std::uint32_t size = le32(wav, at + 4);
    const size_t body = at + 8;
    if (body + size > wav.size()) return fail("chunk " + id + " runs past the end");
    if (id == "fmt ") {
      if (size < 16 || le16(wav, body) != 1) return fail("fmt chunk is not integer PCM");
      up.channels = le16(wav, body + 2);
      up.sample_rate = static_cast<int>(le32(wav, body + 4));
      up.bits = le16(wav, body + 14);
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) return fail("data before fmt");
      if (up.channels != 1 || up.sample_rate != 16000 || up.bits != 16) {
        return fail("not 16 kHz mono 16-bit");
      }
      if (size % 2 != 0) return fail("odd data size");
      up.samples.resize(size / 2);
      for (size_t i = 0; i < up.samples.size(); ++i) {
        up.samples[i] = static_cast<std::int16_t>(le16(wav, body + 2 * i));
      }
      return true;
    }
    at = body + size + (size & 1U);
  }
  return fail("no data chunk");
}

// Splits a multipart/form-data body (RFC 7578) into the upload's fields.
bool parse_multipart(const std::string& content_type, const std::string& body,
                     TranscriptionUpload& up, std::string& file_bytes) {
  const size_t b = content_type.find("boundary=");
  if (content_type.rfind("multipart/form-data", 0) != 0 || b == std::string::npos) return false;
  const std::string delimiter = "--" + content_type.substr(b + 9);
  size_t at = body.find(delimiter);
  if (at == std::string::npos) return false;
  for (;;) {
    at += delimiter.size();
    if (body.compare(at, 2, "--") == 0) return true;  // closing delimiter
    if (body.compare(at, 2, "\r\n") != 0) return false;
    const size_t head_end = body.find("\r\n\r\n", at);
    const size_t next = body.find("\r\n" + delimiter, head_end);
    if (head_end == std::string::npos || next == std::string::npos) return false;
    const std::string head = body.substr(at + 2, head_end - at - 2);
    std::string data = body.substr(head_end + 4, next - head_end - 4);
    auto param = [&](const std::string& key) -> std::string {
      const size_t k = head.find(key + "=\"");
      if (k == std::string::npos) return {};
      const size_t start = k + key.size() + 2;
      return head.substr(start, head.find('"', start) - start);
    };
    const std::string name = param("name");
    // "filename" also contains "name=": look for it on its own.
    const size_t fn = head.find("; filename=\"");
    if (fn != std::string::npos) {
      const size_t start = fn + 12;
      up.file_name = head.substr(start, head.find('"', start) - start);
      const size_t ct = head.find("Content-Type: ");
      if (ct != std::string::npos)
        up.file_content_type = trim_ascii(head.substr(ct + 14, head.find("\r\n", ct) - ct - 14));
      if (name == "file") file_bytes = std::move(data);
    } else {
      up.fields.emplace_back(name, std::move(data));
    }
    at = next + 2;
  }
}

std::string error_json(const std::string& message) {
  return R"({"error":{"message":")" + message + R"(","type":"invalid_request_error"}})";
}

}  // namespace

std::string TranscriptionUpload::field(const std::string& name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  return {};
}

std::vector<std::string> TranscriptionUpload::all(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : fields) {
    if (k == name) out.push_back(v);
  }
  return out;
}

FakeTranscriptionServer::FakeTranscriptionServer(std::string api_key)
    : api_key_(std::move(api_key)) {
  peer_.set_handler([this](const ReceivedRequest& r) { return handle(r); });
}

void FakeTranscriptionServer::push(ScriptedResponse reply) {
  std::lock_guard lock(mu_);
  replies_.push_back(std::move(reply));
}

std::vector<TranscriptionUpload> FakeTranscriptionServer::uploads() const {
  std::lock_guard lock(mu_);
  return uploads_;
}

ScriptedResponse FakeTranscriptionServer::handle(const ReceivedRequest& request) {
  const std::vector<std::pair<std::string, std::string>> json_type = {
      {"Content-Type", "application/json"}};
  if (request.method != "POST" || request.target != "/v1/audio/transcriptions") {
    return {.status = 404, .headers = json_type, .body = error_json("no route " + request.target)};
  }
  TranscriptionUpload up;
  up.path = request.target;
  up.authorization = request.header("authorization");
  std::string file_bytes;
  const bool form_ok =
      parse_multipart(request.header("content-type"), request.body, up, file_bytes);
  if (form_ok && !file_bytes.empty()) up.wav_valid = check_wav(file_bytes, up);
  std::lock_guard lock(mu_);
  uploads_.push_back(up);
  if (up.authorization != "Bearer " + api_key_) {
    return {.status = 401, .headers = json_type, .body = error_json("Incorrect API key provided")};
  }
  if (!form_ok || file_bytes.empty()) {
    return {.status = 400,
            .headers = json_type,
            .body = error_json("expected a multipart form with a file")};
  }
  if (!up.wav_valid)
    return {
        .status = 400, .headers = json_type, .body = error_json("Invalid file: " + up.wav_problem)};
  if (up.field("model").empty())
    return {.status = 400, .headers = json_type, .body = error_json("model is required")};
  if (replies_.empty()) return {.status = 200, .headers = json_type, .body = kDefaultReply};
  ScriptedResponse reply = std::move(replies_.front());
  replies_.pop_front();
  return reply;
}

}  // namespace scribepod::testing
