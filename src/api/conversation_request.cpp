#include "api/conversation_request.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/ascii.h"
#include "session/session_id.h"

namespace scribepod::api {

Status check_json_content_type(std::string_view value) {
  std::string_view type = value.substr(0, value.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  if (type.empty()) return {};
  constexpr std::string_view kApp = "application/";
  const bool app = type.size() > kApp.size() && ascii_iequals(type.substr(0, kApp.size()), kApp);
  const std::string_view sub = app ? type.substr(kApp.size()) : std::string_view{};
  if (ascii_iequals(sub, "json") ||
      (sub.size() > 5 && ascii_iequals(sub.substr(sub.size() - 5), "+json"))) {
    return {};
  }
  return Error::unsupported("the body must be JSON (Content-Type: application/json), not " +
                            std::string(type));
}

Result<std::vector<std::string>> parse_generate_thots(std::string_view body,
                                                      const ThotsLimits& limits) {
  // Depth-limited parse: the body is small and flat, anything deep is junk.
  nlohmann::json doc;
  std::size_t max_depth = 0;
  nlohmann::json::parser_callback_t depth_guard =
      [&max_depth](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        max_depth = std::max(max_depth, static_cast<std::size_t>(depth));
        return true;
      };
  doc = nlohmann::json::parse(body.begin(), body.end(), depth_guard, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error::bad_request("the body is not valid JSON");
  if (max_depth > 4) return Error::bad_request("the body is nested too deeply");
  if (!doc.is_object()) return Error::bad_request("the body must be a JSON object");
  const auto it = doc.find("conversation_speech");
  if (it == doc.end()) return Error::bad_request("missing field \"conversation_speech\"");
  if (!it->is_array()) {
    return Error::bad_request("\"conversation_speech\" must be a list of strings");
  }
  if (it->empty()) return Error::bad_request("\"conversation_speech\" must not be empty");
  if (it->size() > limits.max_lines) {
    return Error::bad_request(fmt::format("\"conversation_speech\" has {} entries; at most {}",
                                          it->size(), limits.max_lines));
  }
  std::vector<std::string> lines;
  lines.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    if (!v.is_string()) {
      return Error::bad_request(
          fmt::format("\"conversation_speech\"[{}] must be a string, got {}", i, v.type_name()));
    }
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() > limits.max_line_bytes) {
      return Error::bad_request(fmt::format("\"conversation_speech\"[{}] is {} bytes; at most {}",
                                            i, s.size(), limits.max_line_bytes));
    }
    lines.push_back(s);
  }
  return lines;
}

Result<int> parse_chunk(std::string_view text) {
  const auto bad = [&] {
    return Error::bad_request(
        fmt::format("chunk must be a positive integer, got \"{}\"", text.substr(0, 20)));
  };
  if (text.empty() || text.size() > 7 || text[0] == '0') return bad();
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad();
    value = value * 10 + (c - '0');
  }
  if (value > 1'000'000) return bad();
  return value;
}

Result<std::string> parse_session_header(std::string_view value) {
  if (value.empty()) return std::string();
  auto id = session::parse_session_id(value);
  if (!id) {
    return Error::bad_request("X-Session-Id must be a session id (a UUID) this server issued");
  }
  return std::move(*id);
}

Result<std::string> parse_idempotency_key(std::string_view value) {
  constexpr std::size_t kMaxKeyBytes = 255;
  if (value.size() > kMaxKeyBytes) {
    return Error::bad_request(
        fmt::format("Idempotency-Key is {} bytes; at most {}", value.size(), kMaxKeyBytes));
  }
  for (const char c : value) {
    if (c < '!' || c > '~') {
      return Error::bad_request(
          "Idempotency-Key must be visible ASCII characters without spaces (e.g. a UUID)");
    }
  }
  return std::string(value);
}

}  // namespace scribepod::api
