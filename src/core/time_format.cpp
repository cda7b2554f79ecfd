#include "core/time_format.h"

#include <fmt/format.h>

#include <ctime>

namespace scribepod {

std::string utc_timestamp(std::chrono::system_clock::time_point when) {
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(when);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when - secs).count();
  const std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

}  // namespace scribepod
