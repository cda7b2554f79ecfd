#include "live/resume_registry.h"

#include <gtest/gtest.h>

#include <set>

#include "live/resume_replay.h"

namespace scribepod::live {
namespace {

using namespace std::chrono_literals;

TEST(ResumeRegistry, TokensAreRandom128BitHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = random_token_hex();
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->size(), 32U);
    EXPECT_EQ(t->find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(*t);
  }
  EXPECT_EQ(seen.size(), 100U);
}

TEST(ResumeRegistry, OnlyADetachedUnexpiredSessionWithItsTokenResumes) {
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  ResumeRegistry r([&] { return now; });
  auto token = r.add("s1");
  ASSERT_TRUE(token.ok());
  ResumeRegistry::Progress p;
  // Still attached: the new connection may have beaten the old one's close.
  EXPECT_EQ(r.claim("s1", *token, p), ResumeRegistry::Claim::kDraining) << "still attached";
  r.mark_draining("s1");
  EXPECT_EQ(r.claim("s1", *token, p), ResumeRegistry::Claim::kDraining);
  r.mark_detached("s1", 1000ms, {4, 3});
  // A token one character off (a random token starts with '0' one time in 16).
  const std::string wrong = (token->front() == '0' ? "1" : "0") + token->substr(1);
  EXPECT_EQ(r.claim("s1", wrong, p), ResumeRegistry::Claim::kRejected);
  EXPECT_EQ(r.claim("s2", *token, p), ResumeRegistry::Claim::kRejected);
  EXPECT_EQ(r.claim("s1", *token, p), ResumeRegistry::Claim::kResumed);
  EXPECT_EQ(p.last_final, 4);
  EXPECT_EQ(p.last_thoughts, 3);
  EXPECT_EQ(r.claim("s1", *token, p), ResumeRegistry::Claim::kDraining) << "attached again";

  r.mark_detached("s1", 1000ms, {});
  now += 1001ms;
  EXPECT_EQ(r.claim("s1", *token, p), ResumeRegistry::Claim::kRejected) << "expired";
  EXPECT_EQ(r.size(), 0U);
}

TEST(ResumeReplay, MissedFinalsAndThoughtsInUtteranceOrderOnce) {
  store::SessionHistory h;
  for (int64_t i = 1; i <= 4; ++i) {
    store::UtteranceRecord u;
    u.seq = i;
    u.text = "u" + std::to_string(i);
    h.utterances.push_back(u);
  }
  for (int64_t i : {1, 2, 4}) {  // utterance 3 has no thoughts
    store::ThoughtsRecord t;
    t.utterance_seq = i;
    h.thoughts.push_back(t);
  }
  auto plan = plan_replay(h, 2, 1);
  std::vector<std::string> got;
  for (const auto& item : plan.items) {
    if (const auto* u = std::get_if<store::UtteranceRecord>(&item)) {
      got.push_back("F" + std::to_string(u->seq));
    } else {
      got.push_back("T" + std::to_string(std::get<store::ThoughtsRecord>(item).utterance_seq));
    }
  }
  EXPECT_EQ(got, (std::vector<std::string>{"T2", "F3", "F4", "T4"}));
  EXPECT_EQ(plan.last_stored_utterance, 4);
  EXPECT_EQ(plan_replay(h, 4, 4).items.size(), 0U);
  EXPECT_EQ(plan_replay(h, 0, 0).items.size(), 7U);
}

}  // namespace
}  // namespace scribepod::live
