// The thoughts JSON: the one contract between a language model and the mind.
//
// thoughts_json_schema() is the JSON Schema (as text) that a Generator is
// asked to follow: an object with exactly the five string fields of
// mind/thoughts.h, each required, non-empty and bounded in length.
//
// parse_thoughts() is the validator: engines may ignore a schema silently,
// so every model output goes through it. It is strict (no surrounding text,
// no code fences, no extra fields) and, on failure, returns kUpstreamFailed
// with a message that lists every problem it found, written so that it can be
// sent back to the model in a repair prompt. Values are returned trimmed.
//
// Model output is outside input: parse_thoughts() accepts any bytes.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"
#include "mind/thoughts.h"

namespace scribepod::mind {

struct ThoughtsField {
  std::string_view name;
  std::size_t max_length;  // in Unicode code points, as JSON Schema counts
};

// The five fields in the order the schema (and so a grammar) lists them.
const std::array<ThoughtsField, 5>& thoughts_fields();

// The JSON Schema text.
const std::string& thoughts_json_schema();

// Validates `json` as thoughts. On success the five fields are filled
// (trimmed); engine, latency and token counts are left for the caller.
Result<Thoughts> parse_thoughts(std::string_view json);

}  // namespace scribepod::mind
