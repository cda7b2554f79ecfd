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
