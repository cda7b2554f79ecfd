#include "config/toml_source.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <system_error>

#include "config/toml_guard.h"

namespace scribepod::config {
namespace {

// True for "server" when some key is "server.<something>".
bool is_section(std::string_view name) {
  return std::any_of(key_table().begin(), key_table().end(), [&](const KeySpec& spec) {
    return spec.key.size() > name.size() && spec.key.starts_with(name) &&
           spec.key[name.size()] == '.';
  });
}

// TOML values -> Value. toml++ gives typed nodes; durations and sizes may be
// written as strings ("10s") or bare integers (in the key's unit).

std::string show_toml(const toml::node& node) {
  if (const auto* s = node.as_string()) return quote_value(s->get());
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* d = node.as_floating_point()) {
    char buf[64];
    const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, d->get());
    return ec == std::errc() ? std::string(buf, ptr) : "a number";
  }
  if (node.is_array()) return "(an array)";
  if (node.is_table()) return "(a table)";
  return "(a date/time)";
}

Result<Value> from_toml(const KeySpec& spec, const toml::node& node) {
  const Error mismatch = Error::invalid_config("expected " + describe_expected(spec));
  switch (spec.type) {
    case ValueType::kString:
    case ValueType::kEnum:
      if (const auto* s = node.as_string()) {
        return check_value(spec, Value(std::in_place_type<std::string>, s->get()));
      }
      return mismatch;
    case ValueType::kBool:
      if (const auto* b = node.as_boolean()) {
        return check_value(spec, Value(std::in_place_type<bool>, b->get()));
      }
      return mismatch;
    case ValueType::kInteger:
      if (const auto* i = node.as_integer()) {
        return check_value(spec, Value(std::in_place_type<int64_t>, i->get()));
      }
      return mismatch;
    case ValueType::kDouble:
      if (const auto* d = node.as_floating_point()) {
        return check_value(spec, Value(std::in_place_type<double>, d->get()));
      }
      if (const auto* i = node.as_integer()) {
        return check_value(spec, Value(std::in_place_type<double>, static_cast<double>(i->get())));
      }
      return mismatch;
    case ValueType::kDuration:
      if (const auto* i = node.as_integer()) {
        const int64_t n = i->get();
        const int64_t unit = spec.unit.count();
        if (n < 0 || n > std::numeric_limits<int64_t>::max() / unit) return mismatch;
        return check_value(spec, Value(std::in_place_type<std::chrono::milliseconds>,
                                       std::chrono::milliseconds(n * unit)));
      }
      if (const auto* s = node.as_string()) return parse_value(spec, s->get());
      return mismatch;
    case ValueType::kSize:
      if (const auto* i = node.as_integer()) {
        return check_value(spec, Value(std::in_place_type<int64_t>, i->get()));
      }
      if (const auto* s = node.as_string()) return parse_value(spec, s->get());
      return mismatch;
    case ValueType::kStringList:
      if (const auto* array = node.as_array()) {
        std::vector<std::string> items;
        for (const toml::node& element : *array) {
          const auto* s = element.as_string();
          if (s == nullptr) return mismatch;
          items.push_back(s->get());
        }
        return check_value(spec,
                           Value(std::in_place_type<std::vector<std::string>>, std::move(items)));
      }
      return mismatch;
  }
  return mismatch;
}

std::string where(std::string_view file, const toml::source_region& region) {
  return std::string(file) + ":" + std::to_string(region.begin.line) + ":" +
         std::to_string(region.begin.column);
}

Status apply_table(const toml::table& table, const std::string& prefix, std::string_view file,
                   const SettingSink& sink) {
  for (const auto& [toml_key, node] : table) {
    const std::string name = std::string(toml_key.str());
    const std::string key = prefix.empty() ? name : prefix + "." + name;
    const std::string location = "config file " + where(file, node.source());
    const KeySpec* spec = find_key(key);
    if (spec == nullptr) {
      if (is_section(key)) {
        const auto* sub = node.as_table();
        if (sub == nullptr) {
          return Error::invalid_config(quote_value(key) + " is a section, not a value (" +
                                       location + "); write it as [" + key + "]");
        }
        if (auto status = apply_table(*sub, key, file, sink); !status) return status;
        continue;
      }
      return Error::invalid_config("unknown setting " + quote_value(key) + " in " + "config file " +
                                   where(file, toml_key.source()) + did_you_mean(key));
    }
    auto value = from_toml(*spec, node);
    if (!value) return invalid_value_error(*spec, show_toml(node), location, value.error());
    sink(*spec, *value, location);
  }
  return {};
}

}  // namespace

Status apply_toml_text(std::string_view text, std::string_view file, const SettingSink& sink) {
  // Keeps inputs that trip toml++ 3.3 bugs away from it (see toml_guard.h).
  if (auto status = check_toml_text(text, file); !status) return status;
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return Error::invalid_config("config file " + where(file, e.source()) + ": " +
                                 std::string(e.description()));
  }
  return apply_table(root, "", file, sink);
}

}  // namespace scribepod::config
