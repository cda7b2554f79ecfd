#include "telemetry/log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace scribepod::log {
namespace {

TEST(LogTest, JsonLineCarriesTimeLevelMessageAndFields) {
  const std::string line = format_line(
      Level::kWarn, "request \"done\"",
      {{"request_id", "abc"}, {"status", 404}, {"duration_ms", 1.5}, {"ok", false}}, true);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["message"], "request \"done\"");
  EXPECT_EQ(j["request_id"], "abc");
  EXPECT_EQ(j["status"], 404);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 1.5);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["time"].get<std::string>().size(), 24u);
}

TEST(LogTest, TextLineIsKeyValue) {
  const std::string line =
      format_line(Level::kInfo, "listening", {{"port", 4200}, {"host", "a b"}}, false);
  EXPECT_NE(line.find(" info listening port=4200 host=\"a b\""), std::string::npos) << line;
}

TEST(LogTest, ParseLevel) {
  EXPECT_EQ(*parse_level("debug"), Level::kDebug);
  EXPECT_EQ(*parse_level("warning"), Level::kWarn);
  EXPECT_FALSE(parse_level("loud").ok());
}

TEST(LogTest, FilesSplitErrorsIntoTheirOwnLog) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("scribepod-log-" + std::to_string(::getpid()));
  ASSERT_TRUE(
      init({.level = Level::kInfo, .json = true, .to_stdout = false, .dir = dir.string()}).ok());
  EXPECT_FALSE(enabled(Level::kDebug));
  info("first", {{"n", 1}});
  debug("hidden");
  error("broken", {{"n", 2}});
  shutdown();
  auto lines = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::vector<nlohmann::json> out;
    for (std::string l; std::getline(in, l);) out.push_back(nlohmann::json::parse(l));
    return out;
  };
  const auto combined = lines(dir / "combined.log");
  const auto errors = lines(dir / "error.log");
  ASSERT_EQ(combined.size(), 2u);
  EXPECT_EQ(combined[0]["message"], "first");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["message"], "broken");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace scribepod::log
