// Wall-clock timestamps in the one format the whole program uses.
#pragma once

#include <chrono>
#include <string>

namespace scribepod {

// ISO-8601 UTC with milliseconds, e.g. 2026-11-26T10:08:53.123Z.
std::string utc_timestamp(std::chrono::system_clock::time_point when);
inline std::string utc_timestamp_now() { return utc_timestamp(std::chrono::system_clock::now()); }

}  // namespace scribepod
