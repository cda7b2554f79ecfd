#include "core/readiness.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

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

namespace scribepod {
namespace {

TEST(ReadinessTest, ProbeWithMaxAgeIsAskedAtMostOncePerMaxAge) {
  Readiness r;
  std::atomic<int> asked{0};
  bool up = true;
  r.set_probe(
      "store",
      [&] {
        ++asked;
        return Readiness::Component{up, "checked"};
      },
      std::chrono::milliseconds(200));
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(r.not_ready().empty());
  EXPECT_EQ(asked.load(), 1);
  up = false;
  EXPECT_TRUE(r.not_ready().empty()) << "the cached answer stands until it is old";
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(r.not_ready(), std::vector<std::string>{"store"});
  EXPECT_EQ(asked.load(), 2);
}

TEST(ReadinessTest, ConcurrentReadersShareOneRefresh) {
  Readiness r;
  std::atomic<int> asked{0};
  r.set_probe(
      "store",
      [&] {
        ++asked;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return Readiness::Component{true, "slow check"};
      },
      std::chrono::seconds(10));
  std::vector<std::thread> readers;
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&r] { EXPECT_EQ(r.snapshot().at("store").detail, "slow check"); });
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(asked.load(), 1);
}

}  // namespace
}  // namespace scribepod
