// A parser for `.env` files: the KEY=value lines that docker-compose, the
// original Node app (dotenv) and the Python app (python-dotenv) read.
//
// Accepted, one assignment per line:
//
//   KEY=value                 surrounding whitespace is trimmed
//   export KEY=value          the shell's `export ` prefix is ignored
//   KEY = value               spaces around '=' are fine
//   KEY=                      an empty value
//   KEY=value # comment       " #" (whitespace, then #) starts a comment
//   KEY=a#b                   ...but a '#' inside a word is part of the value
//   KEY='literal $ \n text'   single quotes: taken exactly as written
//   KEY="line\nnext \"q\""    double quotes: escapes \n \r \t \" \\ ; any
//                             other backslash is kept as written
//   # comment, blank lines    ignored; CRLF line ends and a UTF-8 BOM are fine
//
// Keys are [A-Za-z_][A-Za-z0-9_]*. A quoted value ends on its own line (write
// \n inside double quotes for a newline). A later assignment of the same key
// replaces an earlier one. There is no variable expansion: "$HOME" and
// "${X}" stay as written. The text must be at most kMaxDotenvBytes; NUL bytes
// are rejected. Errors have code kInvalidConfig and start with "line N: ".
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace scribepod::config {

inline constexpr std::size_t kMaxDotenvBytes = 1024 * 1024;

Result<std::map<std::string, std::string>> parse_dotenv(std::string_view text);

}  // namespace scribepod::config
