// Parsers for the original REST flow's inputs: the `chunk` query value of
// POST /conversation, the X-Session-Id and Idempotency-Key headers, and the
// JSON body of POST /generate_thots. Outside input: each has unit tests and
// a fuzzer (fuzz/conversation_request_fuzz.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scribepod::api {

struct ThotsLimits {
  std::size_t max_lines = 200;        // entries in conversation_speech
  std::size_t max_line_bytes = 4000;  // bytes per entry
};

// `{"conversation_speech": ["person: ...", ...]}`: a non-empty list of
// strings within the limits. Other fields are ignored. kBadRequest, with a
// message naming the problem, otherwise.
Result<std::vector<std::string>> parse_generate_thots(std::string_view body,
                                                      const ThotsLimits& limits = {});

// A JSON body's Content-Type: absent, application/json or any
// application/*+json type (parameters such as charset ignored, names
// case-insensitive) is fine; anything else is kUnsupportedMediaType.
Status check_json_content_type(std::string_view value);

// A positive decimal integer without sign, spaces or leading zeros, at most
// 1,000,000 (a 1 s chunk each: eleven days of one utterance).
Result<int> parse_chunk(std::string_view text);

// "" when the header is absent or empty, the canonical id when it is a
// well-formed UUIDv4, kBadRequest otherwise.
Result<std::string> parse_session_header(std::string_view value);

// The Idempotency-Key header of POST /conversation: "" when absent or empty,
// else 1 to 255 visible ASCII characters (no spaces; a UUID is a good key),
// kBadRequest otherwise.
Result<std::string> parse_idempotency_key(std::string_view value);

}  // namespace scribepod::api
