// Writing JSON string literals by hand, for hot paths (log lines) where
// building a DOM would cost more than the work being logged.
#pragma once

#include <string>
#include <string_view>

namespace scribepod {

// Appends `s` as a quoted JSON string. Control characters are escaped and
// invalid UTF-8 sequences become U+FFFD, so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

}  // namespace scribepod
