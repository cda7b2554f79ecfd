// The progress display: units, throttling on a TTY, periodic plain lines
// elsewhere, speed and ETA from a controlled clock.
#include "models/progress_bar.h"

#include <gtest/gtest.h>

#include <sstream>

namespace scribepod::models {
namespace {

using namespace std::chrono_literals;
using Clock = ProgressBar::Clock;

std::size_t count(const std::string& s, char c) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), c));
}

TEST(ProgressBarTest, FormatsBytesAndDurations) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(999), "999 B");
  EXPECT_EQ(format_bytes(1500), "1.5 kB");
  EXPECT_EQ(format_bytes(147'964'211), "148.0 MB");
  EXPECT_EQ(format_bytes(3'100'000'000ULL), "3.1 GB");
  EXPECT_EQ(format_duration(42s), "42s");
  EXPECT_EQ(format_duration(185s), "3m05s");
  EXPECT_EQ(format_duration(3720s), "1h02m");
  EXPECT_EQ(format_duration(-3s), "0s");
}

TEST(ProgressBarTest, TtyRedrawsAtMostTenTimesASecond) {
  std::ostringstream out;
  ProgressBar bar(out, "base.en", {.tty = true});
  const auto t0 = Clock::now();
  // 1000 updates over one second: one every millisecond.
  for (int i = 0; i <= 1000; ++i)
    bar.update(static_cast<std::uint64_t>(i) * 1000, 1'000'000, t0 + i * 1ms);
  const std::size_t redraws = count(out.str(), '\r');
  EXPECT_GE(redraws, 10u);
  EXPECT_LE(redraws, 11u);
  EXPECT_EQ(count(out.str(), '\n'), 0u);
  bar.finish(t0 + 1001ms);
  EXPECT_EQ(out.str().back(), '\n');
  const std::string last = out.str().substr(out.str().rfind('\r') + 1);
  EXPECT_NE(last.find("100%"), std::string::npos) << last;
  EXPECT_NE(last.find("1.0 MB / 1.0 MB"), std::string::npos) << last;
  EXPECT_NE(last.find("[##############################]"), std::string::npos) << last;
}

TEST(ProgressBarTest, ShowsSpeedAndEta) {
  std::ostringstream out;
  ProgressBar bar(out, "m", {.tty = true});
  const auto t0 = Clock::now();
  // Resumed at 50 MB: that must not count as speed.
  bar.update(50'000'000, 100'000'000, t0);
  for (int i = 1; i <= 20; ++i)
    bar.update(50'000'000 + static_cast<std::uint64_t>(i) * 100'000, 100'000'000, t0 + i * 100ms);
  // 1 MB/s steady: 48 MB left -> 48 s.
  const std::string line = bar.render();
  EXPECT_NE(line.find(" 52%"), std::string::npos) << line;
  EXPECT_NE(line.find("1.0 MB/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 48s"), std::string::npos) << line;
}

TEST(ProgressBarTest, PlainModePrintsAPeriodicLine) {
  std::ostringstream out;
  ProgressBar bar(out, "tiny", {.tty = false});
  const auto t0 = Clock::now();
  for (int i = 0; i <= 120; ++i)
    bar.update(static_cast<std::uint64_t>(i) * 1000, 120'000, t0 + i * 100ms);
  bar.finish(t0 + 12'100ms);
  const std::string s = out.str();
  EXPECT_EQ(count(s, '\r'), 0u);
  // First update, at 5 s, at 10 s, then the final line.
  EXPECT_EQ(count(s, '\n'), 4u) << s;
  EXPECT_NE(s.find("tiny: 100% (120.0 kB of 120.0 kB)"), std::string::npos) << s;
}

TEST(ProgressBarTest, UnknownTotalShowsBytesOnly) {
  std::ostringstream out;
  ProgressBar bar(out, "x", {.tty = true});
  bar.update(2'500'000, 0, Clock::now());
  EXPECT_EQ(bar.render().find('%'), std::string::npos);
  EXPECT_NE(bar.render().find("2.5 MB"), std::string::npos);
}

}  // namespace
}  // namespace scribepod::models
