// A pre-check of TOML text, run before it reaches toml++.
//
// toml++ 3.3 (Debian 12) has input-triggered undefined behaviour, found by
// fuzzing fuzz/config_toml_fuzz.cpp and known upstream:
//   - a non-ASCII character where the parser looks for whitespace reaches
//     TOML_UNREACHABLE in is_non_ascii_horizontal_whitespace()
//     (marzer/tomlplusplus#190, #295; fixed upstream by #305);
//   - a table header whose key starts with a character that is neither a
//     bare-key character nor a quote, e.g. "[(" or "[[[", violates an
//     assumed precondition of parse_key() (fixed upstream by #301).
// check_toml_text() rejects those inputs with a normal error: malformed
// UTF-8; non-ASCII text outside strings and comments; a quote glued to the
// token before it (toml++ then scans the would-be string as part of that
// token); a table header not starting with a key. All of these are invalid
// TOML anyway, except one valid construct no scribepod setting needs: a
// line-ending backslash in a """string""" followed by a non-ASCII character.
// Remove this when the system toml++ has the upstream fixes.
#pragma once

#include <string_view>

#include "core/result.h"

namespace scribepod::config {

// Ok, or kInvalidConfig "<source_name>:<line>:<column>: <what>".
Status check_toml_text(std::string_view text, std::string_view source_name);

}  // namespace scribepod::config
