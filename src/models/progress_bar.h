// A download progress display for a terminal: percentage, bytes, speed and
// time left. On a TTY it redraws one line with '\r' at most every
// `redraw_interval` (100 ms); elsewhere (a log file, CI) it prints a plain
// line every `plain_interval` (5 s), so logs stay readable. Feed it from the
// downloader's progress callback; call finish() once at the end.
//
// Speed is an exponential moving average over redraws, so a resumed
// download's first figure isn't inflated by the bytes already on disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

namespace scribepod::models {

// "1.5 MB", "148.0 MB", "512 B" (decimal units, as download sizes are quoted).
std::string format_bytes(std::uint64_t bytes);
// "42s", "3m05s", "1h02m".
std::string format_duration(std::chrono::seconds d);

struct ProgressBarOptions {
  bool tty = false;
  std::chrono::milliseconds redraw_interval{100};
  std::chrono::milliseconds plain_interval{5'000};
  int bar_width = 30;
};

class ProgressBar {
 public:
  using Clock = std::chrono::steady_clock;

  ProgressBar(std::ostream& out, std::string label, ProgressBarOptions options);

  // Whether stderr is a terminal (for ProgressBarOptions::tty).
  static bool stderr_is_tty();

  void update(std::uint64_t done, std::uint64_t total) { update(done, total, Clock::now()); }
  // With an explicit time, for tests.
  void update(std::uint64_t done, std::uint64_t total, Clock::time_point now);
  // Draws the final state and ends the line.
  void finish() { finish(Clock::now()); }
  void finish(Clock::time_point now);

  // The text of one status line for the current state (no '\r' or newline).
  std::string render() const;

 private:
  void draw(Clock::time_point now);

  std::ostream& out_;
  std::string label_;
  ProgressBarOptions options_;
  std::uint64_t done_ = 0;
  std::uint64_t total_ = 0;
  std::optional<Clock::time_point> last_draw_;
  std::optional<Clock::time_point> last_sample_time_;
  std::uint64_t last_sample_bytes_ = 0;
  double rate_ = 0;  // bytes per second, smoothed
  std::size_t last_width_ = 0;
  bool finished_ = false;
};

}  // namespace scribepod::models
