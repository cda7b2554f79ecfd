#include "models/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace scribepod::models {

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes) / 1000.0;
  std::size_t unit = 0;
  while (v >= 1000.0 && unit + 1 < std::size(kUnits)) {
    v /= 1000.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string format_duration(std::chrono::seconds d) {
  const long long s = d.count() < 0 ? 0 : d.count();
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  }
  return buf;
}

ProgressBar::ProgressBar(std::ostream& out, std::string label, ProgressBarOptions options)
    : out_(out), label_(std::move(label)), options_(options) {}

bool ProgressBar::stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

void ProgressBar::update(std::uint64_t done, std::uint64_t total, Clock::time_point now) {
  if (finished_) return;
  done_ = done;
  total_ = total;
  const auto interval = options_.tty ? options_.redraw_interval : options_.plain_interval;
  if (!last_draw_ || now - *last_draw_ >= interval) draw(now);
}

void ProgressBar::finish(Clock::time_point now) {
  if (finished_) return;
  draw(now);
  if (options_.tty) out_ << '\n';
  out_.flush();
  finished_ = true;
}

void ProgressBar::draw(Clock::time_point now) {
  // Sample the speed at draw time: the first sample only sets the baseline,
  // so bytes resumed from disk never count as transferred.
  if (last_sample_time_ && done_ >= last_sample_bytes_) {
    const double dt = std::chrono::duration<double>(now - *last_sample_time_).count();
    if (dt > 0.05) {
      const double inst = static_cast<double>(done_ - last_sample_bytes_) / dt;
      rate_ = rate_ == 0 ? inst : 0.7 * rate_ + 0.3 * inst;
      last_sample_time_ = now;
      last_sample_bytes_ = done_;
    }
  } else {
    // First draw, or the download restarted from zero.
    last_sample_time_ = now;
    last_sample_bytes_ = done_;
    rate_ = 0;
  }
  last_draw_ = now;
  const std::string line = render();
  if (options_.tty) {
    out_ << '\r' << line;
    // Blank out what a longer previous line left behind.
    if (line.size() < last_width_) out_ << std::string(last_width_ - line.size(), ' ');
    last_width_ = line.size();
    out_.flush();
  } else {
    out_ << line << '\n';
  }
}

std::string ProgressBar::render() const {
  std::string s = label_;
  const bool known = total_ > 0;
  const double frac =
      known ? std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_)) : 0.0;
  char pct[16];
  std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(frac * 100.0));
  std::string speed = rate_ > 0 ? format_bytes(static_cast<std::uint64_t>(rate_)) + "/s" : "--";
  std::string eta;
  if (known && rate_ > 0 && done_ < total_) {
    const auto left = static_cast<double>(total_ - done_) / rate_;
    eta = format_duration(std::chrono::seconds(static_cast<long long>(left + 0.5)));
  }
  if (options_.tty) {
    if (known) {
      const auto filled = static_cast<std::size_t>(frac * options_.bar_width);
      const auto width = static_cast<std::size_t>(options_.bar_width);
      s += " [" + std::string(filled, '#') + std::string(width - filled, '.') + "] " + pct;
      s += "  " + format_bytes(done_) + " / " + format_bytes(total_);
    } else {
      s += "  " + format_bytes(done_);
    }
    s += "  " + speed;
    if (!eta.empty()) s += "  ETA " + eta;
  } else {
    if (known) {
      s += ": " + std::string(pct) + " (" + format_bytes(done_) + " of " + format_bytes(total_) +
           ")";
    } else {
      s += ": " + format_bytes(done_);
    }
    s += ", " + speed;
    if (!eta.empty()) s += ", " + eta + " left";
  }
  return s;
}

}  // namespace scribepod::models
