#include "session/session_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

namespace scribepod::session {
namespace {

using Lines = std::vector<std::string>;
using std::chrono::milliseconds;
using TimePoint = std::chrono::system_clock::time_point;

struct FakeClock {
  TimePoint now = TimePoint(std::chrono::hours(1000));
};

RegistryOptions options(std::size_t max_sessions = 100) {
  RegistryOptions o;
  o.timeout = milliseconds(60'000);
  o.sweep_interval = milliseconds(10);
  o.max_sessions = max_sessions;
  return o;
}

std::unique_ptr<SessionRegistry<Lines>> registry(FakeClock& clock, std::size_t max = 100,
                                                 std::map<std::string, Lines> stored = {}) {
  std::function<std::optional<Lines>(const std::string&)> restore;
  if (!stored.empty()) {
    restore = [stored](const std::string& id) -> std::optional<Lines> {
      auto it = stored.find(id);
      if (it == stored.end()) return std::nullopt;
      return it->second;
    };
  }
  return std::make_unique<SessionRegistry<Lines>>(
      options(max), [] { return Lines{}; }, [](const Lines& l) { return l.size(); },
      std::move(restore), [&clock] { return clock.now; });
}

TEST(SessionRegistry, EmptyOrUnknownIdStartsANewSessionUnderANewId) {
  FakeClock clock;
  auto reg = registry(clock);
  auto a = reg->find_or_create("");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->created);
  EXPECT_TRUE(parse_session_id(a->session->id).has_value());

  const std::string unknown = new_session_id();
  auto b = reg->find_or_create(unknown);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->created);
  EXPECT_NE(b->session->id, unknown) << "a client must not choose its id";
  EXPECT_EQ(reg->size(), 2U);
}

TEST(SessionRegistry, KnownIdReachesTheSameStateAndOnlyIt) {
  FakeClock clock;
  auto reg = registry(clock);
  auto a = reg->find_or_create("");
  auto b = reg->find_or_create("");
  ASSERT_TRUE(a.ok() && b.ok());
  {
    std::lock_guard lock(a->session->mu);
    a->session->state.push_back("person: hello");
  }
  auto again = reg->find_or_create(a->session->id);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->session, a->session);
  EXPECT_EQ(again->session->state, Lines{"person: hello"});
  EXPECT_TRUE(reg->find(b->session->id)->state.empty());
}

TEST(SessionRegistry, CapGivesUnavailableWithRetryAfter) {
  FakeClock clock;
  auto reg = registry(clock, 2);
  ASSERT_TRUE(reg->find_or_create("").ok());
  auto second = reg->find_or_create("");
  ASSERT_TRUE(second.ok());
  auto third = reg->find_or_create("");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(third.error().retry_after.has_value());
  // Existing sessions stay reachable at the cap.
  EXPECT_TRUE(reg->find_or_create(second->session->id).ok());
}

TEST(SessionRegistry, SweepRemovesOnlyIdleSessions) {
  FakeClock clock;
  auto reg = registry(clock);
  auto old_one = reg->find_or_create("");
  clock.now += milliseconds(50'000);
  auto fresh = reg->find_or_create("");
  clock.now += milliseconds(20'000);  // old: 70 s idle, fresh: 20 s
  EXPECT_EQ(reg->sweep(), 1U);
  EXPECT_EQ(reg->find(old_one->session->id), nullptr);
  EXPECT_NE(reg->find(fresh->session->id), nullptr);
}

TEST(SessionRegistry, ActivityPostponesExpiry) {
  FakeClock clock;
  auto reg = registry(clock);
  auto s = reg->find_or_create("");
  for (int i = 0; i < 5; ++i) {
    clock.now += milliseconds(40'000);
    ASSERT_NE(reg->find(s->session->id), nullptr);
    EXPECT_EQ(reg->sweep(), 0U);
  }
}

TEST(SessionRegistry, RestoreBringsBackAStoredIdUnderTheSameId) {
  FakeClock clock;
  const std::string stored_id = new_session_id();
  auto reg = registry(clock, 10, {{stored_id, Lines{"person: before the restart"}}});
  auto r = reg->find_or_create(stored_id);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->restored);
  EXPECT_EQ(r->session->id, stored_id);
  EXPECT_EQ(r->session->state, Lines{"person: before the restart"});
  EXPECT_EQ(reg->find_or_create(stored_id)->session, r->session);
}

TEST(SessionRegistry, SummariesAreMostRecentFirstWithLengths) {
  FakeClock clock;
  auto reg = registry(clock);
  auto a = reg->find_or_create("");
  a->session->state = {"x", "y"};
  clock.now += milliseconds(1000);
  auto b = reg->find_or_create("");
  const auto list = reg->summaries();
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(list[0].id, b->session->id);
  EXPECT_EQ(list[1].length, 2U);
}

TEST(SessionRegistry, SweeperThreadRunsAndStops) {
  FakeClock clock;
  auto reg = registry(clock);
  ASSERT_TRUE(reg->find_or_create("").ok());
  clock.now += milliseconds(120'000);
  std::atomic<std::size_t> removed{0};
  reg->start_sweeper([&removed](std::size_t n) { removed += n; });
  for (int i = 0; i < 200 && removed == 0; ++i) std::this_thread::sleep_for(milliseconds(5));
  reg->stop_sweeper();
  EXPECT_EQ(removed.load(), 1U);
  EXPECT_EQ(reg->size(), 0U);
}

TEST(SessionRegistry, ParallelClientsNeverSeeEachOthersState) {
  auto reg = std::make_unique<SessionRegistry<Lines>>(
      options(1000), [] { return Lines{}; }, [](const Lines& l) { return l.size(); });
  constexpr int kClients = 16;
  constexpr int kTurns = 200;
  std::atomic<int> cross_talk{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto first = reg->find_or_create("");
      ASSERT_TRUE(first.ok());
      const std::string id = first->session->id;
      const std::string mine = "client " + std::to_string(c);
      for (int t = 0; t < kTurns; ++t) {
        auto s = reg->find_or_create(id);
        ASSERT_TRUE(s.ok());
        std::lock_guard lock(s->session->mu);
        for (const auto& line : s->session->state) {
          if (line != mine) ++cross_talk;
        }
        s->session->state.push_back(mine);
      }
      EXPECT_EQ(reg->find(id)->state.size(), static_cast<std::size_t>(kTurns));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(cross_talk.load(), 0);
  EXPECT_EQ(reg->size(), static_cast<std::size_t>(kClients));
}

}  // namespace
}  // namespace scribepod::session
