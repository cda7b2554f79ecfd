#include "mind/thoughts_schema.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace scribepod::mind {
namespace {

// The schema says 1..max characters; answers of a few sentences fit, and the
// bounds keep a runaway generation from filling the page.
constexpr std::array<ThoughtsField, 5> kFields = {{
    {"intent", 300},
    {"person_is", 300},
    {"extra_state", 400},
    {"thoughts", 800},
    {"response", 800},
}};

std::string build_schema() {
  nlohmann::ordered_json properties = nlohmann::ordered_json::object();
  nlohmann::ordered_json required = nlohmann::ordered_json::array();
  for (const auto& field : kFields) {
    properties[std::string(field.name)] = {
        {"type", "string"}, {"minLength", 1}, {"maxLength", field.max_length}};
    required.push_back(std::string(field.name));
  }
  nlohmann::ordered_json schema = {{"type", "object"},
                                   {"properties", properties},
                                   {"required", required},
                                   {"additionalProperties", false}};
  return schema.dump();
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Code points in valid UTF-8 (the JSON parser has already rejected invalid
// sequences): every byte that is not a continuation byte starts one.
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

// A key from model output, safe to quote in a message: printable ASCII only,
// bounded, so an error message never carries arbitrary bytes.
std::string printable_key(std::string_view key) {
  constexpr std::size_t kMax = 40;
  std::string out;
  for (char c : key) {
    if (out.size() == kMax) {
      out += "...";
      break;
    }
    out += (c >= 0x20 && c < 0x7F) ? c : '?';
  }
  return out;
}

std::string_view type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::string:
      return "a string";
    default:
      return "a number";
  }
}

std::string* field_slot(Thoughts& t, std::string_view name) {
  if (name == "intent") return &t.intent;
  if (name == "person_is") return &t.person_is;
  if (name == "extra_state") return &t.extra_state;
  if (name == "thoughts") return &t.thoughts;
  return &t.response;
}

Error invalid(const std::vector<std::string>& problems) {
  // Bounded: an object with thousands of stray keys must not make a
  // message of the same size.
  constexpr std::size_t kMaxListed = 8;
  std::string message = "invalid thoughts JSON: ";
  for (std::size_t i = 0; i < problems.size() && i < kMaxListed; ++i) {
    if (i > 0) message += "; ";
    message += problems[i];
  }
  if (problems.size() > kMaxListed) {
    message += "; and " + std::to_string(problems.size() - kMaxListed) + " more problems";
  }
  return Error{ErrorCode::kUpstreamFailed, std::move(message), {}};
}

}  // namespace

const std::array<ThoughtsField, 5>& thoughts_fields() { return kFields; }

const std::string& thoughts_json_schema() {
  static const std::string schema = build_schema();
  return schema;
}

Result<Thoughts> parse_thoughts(std::string_view json) {
  if (trim(json).empty()) return invalid({"the output is empty"});
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return invalid(
        {"the output is not one valid JSON value (it must be a single JSON object "
         "with nothing before or after it)"});
  }
  if (!doc.is_object()) {
    return invalid({"the output is " + std::string(type_name(doc)) + ", not a JSON object"});
  }

  std::vector<std::string> problems;
  Thoughts thoughts;
  for (const auto& field : kFields) {
    const std::string name(field.name);
    auto it = doc.find(name);
    if (it == doc.end()) {
      problems.push_back("missing field \"" + name + "\"");
      continue;
    }
    if (!it->is_string()) {
      problems.push_back("field \"" + name + "\" is " + std::string(type_name(*it)) +
                         ", not a string");
      continue;
    }
    std::string_view value = trim(it->get_ref<const std::string&>());
    if (value.empty()) {
      problems.push_back("field \"" + name + "\" is empty");
      continue;
    }
    const std::size_t length = code_points(value);
    if (length > field.max_length) {
      problems.push_back("field \"" + name + "\" is " + std::to_string(length) +
                         " characters long, over the limit of " + std::to_string(field.max_length));
      continue;
    }
    *field_slot(thoughts, field.name) = std::string(value);
  }
  for (const auto& [key, value] : doc.items()) {
    bool known = false;
    for (const auto& field : kFields) known = known || key == field.name;
    if (!known) problems.push_back("unexpected field \"" + printable_key(key) + "\"");
  }
  if (!problems.empty()) return invalid(problems);
  return thoughts;
}

}  // namespace scribepod::mind
