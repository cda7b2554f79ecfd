#include "llm/openai/chat_completion.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>

namespace scribepod::llm {
namespace {

using nlohmann::json;

Error unusable(std::string what) { return {ErrorCode::kUpstreamFailed, std::move(what), {}}; }

// The start of a body, on one line, for messages about replies we could not
// use (an HTML error page from a proxy says more than "not JSON").
std::string excerpt(std::string_view body) {
  constexpr size_t kMax = 60;
  std::string s(body.substr(0, std::min(body.size(), kMax)));
  std::replace_if(
      s.begin(), s.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return body.size() > kMax ? s + "..." : s;
}

// A token count: a non-negative integer that fits an int, else 0 (servers
// differ; a count we cannot trust is reported as unknown, not as garbage).
int token_count(const json& usage, const char* key) {
  if (!usage.is_object() || !usage.contains(key)) return 0;
  const json& v = usage[key];
  if (v.is_number_unsigned()) {
    const auto n = v.get<std::uint64_t>();
    return n <= static_cast<std::uint64_t>(std::numeric_limits<int>::max()) ? static_cast<int>(n)
                                                                            : 0;
  }
  return 0;
}

std::string string_or_empty(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return {};
  return object[key].get<std::string>();
}

}  // namespace

Result<std::string> build_chat_completion_body(std::string_view model,
                                               const GenerateRequest& request) {
  json body = json::object();
  body["model"] = std::string(model);
  json messages = json::array();
  for (const ChatMessage& m : request.messages) {
    messages.push_back({{"role", m.role}, {"content", m.content}});
  }
  body["messages"] = std::move(messages);
  body["max_tokens"] = request.max_tokens;
  // Through double so that 0.2F goes out as 0.2, not 0.20000000298023224.
  const std::string temperature = fmt::format("{}", request.temperature);
  double t = 0;
  std::from_chars(temperature.data(), temperature.data() + temperature.size(), t);
  body["temperature"] = t;
  body["stream"] = false;
  if (request.seed != 0) body["seed"] = request.seed;
  if (!request.json_schema.empty()) {
    json schema = json::parse(request.json_schema, nullptr, false);
    if (schema.is_discarded() || !schema.is_object()) {
      return Error::internal(
          fmt::format("the generation's JSON schema is not a JSON object (starts with \"{}\")",
                      excerpt(request.json_schema)));
    }
    body["response_format"] = {
        {"type", "json_schema"},
        {"json_schema",
         {{"name", std::string(kSchemaName)}, {"schema", std::move(schema)}, {"strict", true}}}};
  }
  // Conversation text may hold broken UTF-8 (a transcript, a pasted file);
  // replace it rather than fail the whole request.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ChatCompletion> parse_chat_completion(std::string_view body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    return unusable(fmt::format("reply is not JSON (starts with \"{}\")", excerpt(body)));
  }
  if (!j.is_object()) return unusable("reply is not a JSON object");
  // Some proxies and servers report failures inside a 200.
  if (j.contains("error") && !j["error"].is_null()) {
    std::string what = j["error"].is_string() ? j["error"].get<std::string>()
                                              : string_or_empty(j["error"], "message");
    return unusable(fmt::format("reply carries an error: {}",
                                what.empty() ? excerpt(j["error"].dump()) : excerpt(what)));
  }
  if (!j.contains("choices") || !j["choices"].is_array()) {
    return unusable("reply has no \"choices\" array");
  }
  if (j["choices"].empty()) return unusable("reply has an empty \"choices\" array");
  const json& choice = j["choices"][0];
  if (!choice.is_object() || !choice.contains("message") || !choice["message"].is_object()) {
    return unusable("reply's choices[0] has no \"message\" object");
  }
  const json& message = choice["message"];
  if (!message.contains("content") || !message["content"].is_string()) {
    // OpenAI's structured outputs put a refusal here instead of content.
    const std::string refusal = string_or_empty(message, "refusal");
    if (!refusal.empty()) return unusable(fmt::format("the model refused: {}", excerpt(refusal)));
    return unusable("reply's choices[0].message has no \"content\" string");
  }

  ChatCompletion out;
  out.content = message["content"].get<std::string>();
  out.finish_reason = string_or_empty(choice, "finish_reason");
  out.model = string_or_empty(j, "model");
  if (j.contains("usage")) {
    out.prompt_tokens = token_count(j["usage"], "prompt_tokens");
    out.completion_tokens = token_count(j["usage"], "completion_tokens");
  }
  return out;
}

}  // namespace scribepod::llm
