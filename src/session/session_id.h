// Session ids: random UUIDv4 strings that act as capabilities. Whoever holds
// an id can reach that conversation and nothing else, so ids come from the
// operating system's CSPRNG (122 random bits) and are never chosen by a
// client: an id the server does not know starts a new session with a new id.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace scribepod::session {

// A new id in canonical lower-case form, e.g.
// "3f2b8c1e-9a4d-4c7e-8b1f-0d2e6a5c7b90".
std::string new_session_id();

// The canonical (lower-case) form of `text` when it is a well-formed UUIDv4
// (8-4-4-4-12 hex digits, version 4, RFC 4122 variant); std::nullopt
// otherwise. Surrounding whitespace is not accepted.
std::optional<std::string> parse_session_id(std::string_view text);

}  // namespace scribepod::session
