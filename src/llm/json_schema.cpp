// Parsing, validation and GBNF conversion for the JSON Schema subset in
// json_schema.h. nlohmann::json stays inside this file.
#include "llm/json_schema.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

namespace scribepod::llm {
namespace {

// ordered_json keeps properties in declaration order, which the grammar follows.
using json = nlohmann::ordered_json;

const std::set<std::string, std::less<>> kAnnotations = {
    "title", "description", "$schema", "$id", "$comment", "default", "examples"};

Result<std::size_t> parse_count(const json& node, const char* key, const std::string& where) {
  const auto& v = node.at(key);
  if (!v.is_number_unsigned()) {
    return Error::bad_request(where + "." + key + ": expected a non-negative integer");
  }
  return v.get<std::size_t>();
}

Result<SchemaNode> parse_node(const json& node, const std::string& where) {
  if (!node.is_object()) {
    return Error::bad_request(where + ": a schema must be a JSON object");
  }
  static const std::set<std::string, std::less<>> known = {
      "type",  "properties", "required", "additionalProperties", "minLength", "maxLength", "enum",
      "items", "minItems",   "maxItems"};
  for (const auto& [key, value] : node.items()) {
    if (!known.contains(key) && !kAnnotations.contains(key)) {
      return Error::bad_request(where + ": unsupported schema keyword \"" + key + "\"");
    }
  }
  SchemaNode out;
  std::string type;
  if (node.contains("type")) {
    if (!node["type"].is_string()) {
      return Error::bad_request(where + ".type: expected one type name as a string");
    }
    type = node["type"].get<std::string>();
  }
  if (node.contains("enum")) {
    if (!type.empty() && type != "string") {
      return Error::bad_request(where + ".enum: only enums of strings are supported");
    }
    const auto& values = node["enum"];
    if (!values.is_array() || values.empty()) {
      return Error::bad_request(where + ".enum: expected a non-empty array");
    }
    for (const auto& v : values) {
      if (!v.is_string()) {
        return Error::bad_request(where + ".enum: only string values are supported");
      }
      out.enum_values.push_back(v.get<std::string>());
    }
    out.type = SchemaNode::Type::kStringEnum;
    return out;
  }
  if (type == "string") {
    out.type = SchemaNode::Type::kString;
    for (const char* key : {"minLength", "maxLength"}) {
      if (node.contains(key)) {
        auto n = parse_count(node, key, where);
        if (!n) {
          return n.error();
        }
        (key[1] == 'i' ? out.min_length : out.max_length) = *n;
      }
    }
  } else if (type == "integer") {
    out.type = SchemaNode::Type::kInteger;
  } else if (type == "number") {
    out.type = SchemaNode::Type::kNumber;
  } else if (type == "boolean") {
    out.type = SchemaNode::Type::kBoolean;
  } else if (type == "array") {
    out.type = SchemaNode::Type::kArray;
    if (!node.contains("items")) {
      return Error::bad_request(where + ": an array schema needs \"items\"");
    }
    auto item = parse_node(node["items"], where + ".items");
    if (!item) {
      return item.error();
    }
    out.items.push_back(std::move(*item));
    for (const char* key : {"minItems", "maxItems"}) {
      if (node.contains(key)) {
        auto n = parse_count(node, key, where);
        if (!n) {
          return n.error();
        }
        (key[1] == 'i' ? out.min_items : out.max_items) = *n;
      }
    }
  } else if (type == "object") {
    out.type = SchemaNode::Type::kObject;
    if (node.contains("properties")) {
      if (!node["properties"].is_object()) {
        return Error::bad_request(where + ".properties: expected an object");
      }
      for (const auto& [name, sub] : node["properties"].items()) {
        auto child = parse_node(sub, where + ".properties." + name);
        if (!child) {
          return child.error();
        }
        out.properties.emplace_back(name, std::move(*child));
      }
    }
    if (node.contains("additionalProperties")) {
      if (!node["additionalProperties"].is_boolean()) {
        return Error::bad_request(where + ".additionalProperties: only true or false is supported");
      }
      out.additional_properties = node["additionalProperties"].get<bool>();
    }
    if (node.contains("required")) {
      if (!node["required"].is_array()) {
        return Error::bad_request(where + ".required: expected an array of names");
      }
      for (const auto& name : node["required"]) {
        if (!name.is_string()) {
          return Error::bad_request(where + ".required: expected an array of names");
        }
        const auto n = name.get<std::string>();
        const bool declared = std::any_of(out.properties.begin(), out.properties.end(),
                                          [&](const auto& p) { return p.first == n; });
        if (!declared && !out.additional_properties) {
          return Error::bad_request(where + ".required: \"" + n +
                                    "\" is required but not declared in properties");
        }
        out.required.push_back(n);
      }
    }
  } else if (type.empty()) {
    return Error::bad_request(where + ": missing \"type\" (or \"enum\")");
  } else {
    return Error::bad_request(where + ".type: unsupported type \"" + type + "\"");
  }
  return out;
}

std::size_t utf8_length(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
}

std::string type_name(const json& v) { return v.type_name(); }

void check(const SchemaNode& s, const json& v, const std::string& where,
           std::vector<std::string>& out) {
  using T = SchemaNode::Type;
  switch (s.type) {
    case T::kString:
    case T::kStringEnum: {
      if (!v.is_string()) {
        out.push_back(where + ": expected a string, got " + type_name(v));
        return;
      }
      const auto text = v.get<std::string>();
      if (s.type == T::kStringEnum) {
        if (std::find(s.enum_values.begin(), s.enum_values.end(), text) == s.enum_values.end()) {
          out.push_back(where + ": \"" + text + "\" is not one of the allowed values");
        }
        return;
      }
      const auto n = utf8_length(text);
      if (s.max_length && n > *s.max_length) {
        out.push_back(where + ": longer than " + std::to_string(*s.max_length) + " characters");
      }
      if (s.min_length && n < *s.min_length) {
        out.push_back(where + ": shorter than " + std::to_string(*s.min_length) + " characters");
      }
      return;
    }
    case T::kInteger: {
      const bool integral =
          v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                    std::floor(v.get<double>()) == v.get<double>());
      if (!integral) {
        out.push_back(where + ": expected an integer, got " + type_name(v));
      }
      return;
    }
    case T::kNumber:
      if (!v.is_number()) {
        out.push_back(where + ": expected a number, got " + type_name(v));
      }
      return;
    case T::kBoolean:
      if (!v.is_boolean()) {
        out.push_back(where + ": expected true or false, got " + type_name(v));
      }
      return;
    case T::kArray: {
      if (!v.is_array()) {
        out.push_back(where + ": expected an array, got " + type_name(v));
        return;
      }
      if (s.max_items && v.size() > *s.max_items) {
        out.push_back(where + ": more than " + std::to_string(*s.max_items) + " items");
      }
      if (s.min_items && v.size() < *s.min_items) {
        out.push_back(where + ": fewer than " + std::to_string(*s.min_items) + " items");
      }
      for (std::size_t i = 0; i < v.size(); ++i) {
        check(s.items.front(), v[i], where + "[" + std::to_string(i) + "]", out);
      }
      return;
    }
    case T::kObject: {
      if (!v.is_object()) {
        out.push_back(where + ": expected an object, got " + type_name(v));
        return;
      }
      for (const auto& name : s.required) {
        if (!v.contains(name)) {
          out.push_back(where + ": missing required property \"" + name + "\"");
        }
      }
      for (const auto& [name, value] : v.items()) {
        const auto it = std::find_if(s.properties.begin(), s.properties.end(),
                                     [&](const auto& p) { return p.first == name; });
        if (it != s.properties.end()) {
          check(it->second, value, where + "." + name, out);
        } else if (!s.additional_properties) {
          out.push_back(where + ": unexpected property \"" + name + "\"");
        }
      }
      return;
    }
  }
}

// A GBNF string literal matching exactly `text`.
std::string gbnf_literal(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char* hex = "0123456789ABCDEF";
          out += "\\x";
          out += hex[(static_cast<unsigned char>(c) >> 4U) & 0xFU];
          out += hex[static_cast<unsigned char>(c) & 0xFU];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string repeat_bounds(std::size_t min, std::optional<std::size_t> max) {
  if (!max) {
    return min == 0 ? "*" : "{" + std::to_string(min) + ",}";
  }
  return "{" + std::to_string(min) + "," + std::to_string(*max) + "}";
}

class GbnfWriter {
 public:
  std::string write(const SchemaNode& root) {
    emit(root, "root");
    std::string out = rules_;
    if (uses_char_) {
      out +=
          "char ::= [^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\/bfnrt] | \"u\" "
          "[0-9a-fA-F]{4})\n";
    }
    return out;
  }

 private:
  // Writes the rule `name ::= ...` for `s` (and its children's rules).
  void emit(const SchemaNode& s, const std::string& name) {
    using T = SchemaNode::Type;
    std::string body;
    switch (s.type) {
      case T::kString:
        uses_char_ = true;
        body =
            "\"\\\"\" char" + repeat_bounds(s.min_length.value_or(0), s.max_length) + " \"\\\"\"";
        break;
      case T::kStringEnum:
        for (std::size_t i = 0; i < s.enum_values.size(); ++i) {
          body += (i ? " | " : "") + gbnf_literal(json(s.enum_values[i]).dump());
        }
        body = "(" + body + ")";
        break;
      case T::kInteger:
        body = "\"-\"? (\"0\" | [1-9] [0-9]{0,15})";
        break;
      case T::kNumber:
        body = "\"-\"? (\"0\" | [1-9] [0-9]{0,15}) (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?";
        break;
      case T::kBoolean:
        body = "(\"true\" | \"false\")";
        break;
      case T::kArray: {
        const std::string item = name + "-item";
        emit(s.items.front(), item);
        const std::size_t min = s.min_items.value_or(0);
        if (s.max_items && *s.max_items == 0) {
          body = "\"[\" \"]\"";
          break;
        }
        std::optional<std::size_t> more_max;
        if (s.max_items) {
          more_max = *s.max_items - 1;
        }
        const std::string list =
            item + " (\",\" " + item + ")" + repeat_bounds(min > 0 ? min - 1 : 0, more_max);
        body = "\"[\" " + (min == 0 ? "(" + list + ")?" : list) + " \"]\"";
        break;
      }
      case T::kObject: {
        body = "\"{\"";
        for (std::size_t i = 0; i < s.properties.size(); ++i) {
          const std::string child = name + "-" + std::to_string(i);
          emit(s.properties[i].second, child);
          const std::string key = (i ? "," : "") + json(s.properties[i].first).dump() + ":";
          body += " " + gbnf_literal(key) + " " + child;
        }
        body += " \"}\"";
        break;
      }
    }
    rules_ += name + " ::= " + body + "\n";
  }

  std::string rules_;
  bool uses_char_ = false;
};

}  // namespace

Result<JsonSchema> JsonSchema::parse(std::string_view schema_json) {
  json doc;
  try {
    doc = json::parse(schema_json);
  } catch (const json::parse_error& e) {
    return Error::bad_request(std::string("the JSON schema is not valid JSON: ") + e.what());
  }
  auto root = parse_node(doc, "$");
  if (!root) {
    return root.error();
  }
  return JsonSchema(std::make_shared<const SchemaNode>(std::move(*root)));
}

std::vector<std::string> JsonSchema::validate(std::string_view json_text) const {
  std::vector<std::string> out;
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    out.push_back(std::string("not valid JSON: ") + e.what());
    return out;
  }
  check(*root_, doc, "$", out);
  return out;
}

std::string JsonSchema::to_gbnf() const { return GbnfWriter().write(*root_); }

}  // namespace scribepod::llm
