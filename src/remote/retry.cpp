#include "remote/retry.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace scribepod::remote {
namespace {

bool parse_int(std::string_view s, int& out) {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"): the one format RFC 9110
// says senders must use. Written by hand so the C locale cannot matter.
std::optional<std::chrono::system_clock::time_point> parse_imf_fixdate(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // "Www, DD Mon YYYY HH:MM:SS GMT" is exactly 29 characters.
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  int day = 0;
  int year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!parse_int(s.substr(5, 2), day) || !parse_int(s.substr(12, 4), year) ||
      !parse_int(s.substr(17, 2), hour) || !parse_int(s.substr(20, 2), minute) ||
      !parse_int(s.substr(23, 2), second)) {
    return std::nullopt;
  }
  const auto month_it = std::find(kMonths.begin(), kMonths.end(), s.substr(8, 3));
  if (month_it == kMonths.end() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const auto month = static_cast<unsigned>(month_it - kMonths.begin() + 1);
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
         std::chrono::seconds{second};
}

}  // namespace

bool is_retryable_status(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

bool is_retryable_failure(TransportFailure failure) {
  return failure == TransportFailure::kConnect || failure == TransportFailure::kTimeout ||
         failure == TransportFailure::kDropped;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double u) {
  const int exponent = std::clamp(attempt - 1, 0, 30);
  const double ceiling =
      std::min(static_cast<double>(policy.max_delay.count()),
               static_cast<double>(policy.base_delay.count()) * std::ldexp(1.0, exponent));
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double delay = ceiling * (1.0 - jitter * std::clamp(u, 0.0, 1.0));
  return std::chrono::milliseconds(static_cast<long long>(std::llround(delay)));
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    long long seconds = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    // A number too large to hold is still "longer than we will wait".
    if (ec == std::errc::result_out_of_range) return std::chrono::hours(24 * 365);
    if (ec != std::errc() || ptr != value.data() + value.size()) return std::nullopt;
    return std::chrono::seconds(std::min(seconds, 365LL * 24 * 3600));
  }
  const auto when = parse_imf_fixdate(value);
  if (!when) return std::nullopt;
  if (*when <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(*when - now);
}

}  // namespace scribepod::remote
