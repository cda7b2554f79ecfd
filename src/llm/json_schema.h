// JsonSchema: the subset of JSON Schema our structured outputs use, with a
// validator that explains itself and a converter to a llama.cpp GBNF grammar.
//
// Supported: "type" object (properties, required, additionalProperties:
// false), string (minLength, maxLength), integer, number, boolean, array
// (items, minItems, maxItems), and "enum" of strings. Annotations (title,
// description, $schema, default, examples) are ignored. Any other keyword
// (anyOf, $ref, pattern, minimum, ...) is rejected at parse time, so a schema
// never carries a constraint that we would silently not enforce.
//
// The grammar describes compact JSON (no whitespace between tokens) and
// lists every declared property of an object, in declaration order: each such
// instance is valid, and a generator has no freedom to wander. Unbounded
// strings and arrays stay unbounded; callers bound them with max_tokens.
//
// validate() checks a JSON text against the schema and returns every
// violation as a readable line ("$.intent: longer than 40 characters"); an
// empty list means valid. Thread-safe: a parsed schema is immutable.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace scribepod::llm {

struct SchemaNode {
  enum class Type { kObject, kString, kInteger, kNumber, kBoolean, kArray, kStringEnum };
  Type type = Type::kString;
  // kObject: declared properties in order, which of them are required, and
  // whether undeclared ones are allowed.
  std::vector<std::pair<std::string, SchemaNode>> properties;
  std::vector<std::string> required;
  bool additional_properties = true;
  // kString: length bounds in Unicode code points.
  std::optional<std::size_t> min_length;
  std::optional<std::size_t> max_length;
  // kStringEnum: the allowed values.
  std::vector<std::string> enum_values;
  // kArray: the item schema (exactly one element) and count bounds.
  std::vector<SchemaNode> items;
  std::optional<std::size_t> min_items;
  std::optional<std::size_t> max_items;
};

class JsonSchema {
 public:
  // Parses a schema given as JSON text. kBadRequest naming the offending
  // keyword and its location when the text is not JSON or not in the subset.
  static Result<JsonSchema> parse(std::string_view schema_json);

  const SchemaNode& root() const { return *root_; }

  // Every violation of `json_text` against the schema; empty = valid.
  std::vector<std::string> validate(std::string_view json_text) const;

  // A GBNF grammar whose start rule is "root" (see the contract above).
  std::string to_gbnf() const;

 private:
  explicit JsonSchema(std::shared_ptr<const SchemaNode> root) : root_(std::move(root)) {}
  std::shared_ptr<const SchemaNode> root_;
};

}  // namespace scribepod::llm
