#include "core/readiness.h"

#include <gtest/gtest.h>

namespace scribepod {
namespace {

TEST(ReadinessTest, ReportsComponentsThatAreNotReady) {
  Readiness r;
  EXPECT_TRUE(r.not_ready().empty());
  r.set("http", true, "listening");
  r.set("asr", false, "loading model");
  EXPECT_EQ(r.not_ready(), std::vector<std::string>{"asr"});
  r.set("asr", true, "pocketsphinx");
  EXPECT_TRUE(r.not_ready().empty());
  EXPECT_EQ(r.snapshot().at("asr").detail, "pocketsphinx");
}

}  // namespace
}  // namespace scribepod

namespace scribepod {
namespace {

TEST(ReadinessTest, ProbesAreAskedAtEverySnapshotAndSetReplacesThem) {
  Readiness r;
  bool up = true;
  r.set_probe("llm", [&up] { return Readiness::Component{up, up ? "closed" : "circuit open"}; });
  EXPECT_TRUE(r.not_ready().empty());
  up = false;
  EXPECT_EQ(r.not_ready(), std::vector<std::string>{"llm"});
  EXPECT_EQ(r.snapshot().at("llm").detail, "circuit open");
  r.set("llm", true, "fixed");
  up = false;
  EXPECT_TRUE(r.not_ready().empty());
}

}  // namespace
}  // namespace scribepod
