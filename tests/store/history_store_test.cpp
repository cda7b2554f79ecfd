// The HistoryStore contract, run against both backends: SQLite on a temp
// file and PostgreSQL on a real server started on loopback for each test.
#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "postgres_server.h"
#include "store/open_store.h"
#include "store_test_util.h"

namespace scribepod::store {
namespace {

using test::at;
using test::thoughts;
using test::utterance;

class HistoryStoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    params_.backend = GetParam();
    if (params_.backend == "postgres") {
      std::string why;
      if (!testing::PostgresServer::available(why)) GTEST_SKIP() << why;
      server_ = std::make_unique<testing::PostgresServer>();
      Status s = server_->start();
      ASSERT_TRUE(s.ok()) << s.error().message;
      params_.postgres_url = server_->url();
    } else {
      ASSERT_FALSE(dir_.path().empty());
      params_.sqlite_path = dir_.path() + "/data/scribepod.db";
    }
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<HistoryStore> open() {
    auto s = open_store(params_);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(s).value() : nullptr;
  }

  SessionHistory load_ok(HistoryStore& store, const std::string& id) {
    auto h = store.load(id);
    EXPECT_TRUE(h.ok()) << h.error().message;
    if (!h.ok() || !h->has_value()) {
      ADD_FAILURE() << "session " << id << " not found";
      return {};
    }
    return std::move(**h);
  }

  test::TempDir dir_;
  std::unique_ptr<testing::PostgresServer> server_;
  StoreParams params_;
  std::unique_ptr<HistoryStore> store_;
};

TEST_P(HistoryStoreContract, NameDescribeAndReady) {
  EXPECT_EQ(store_->name(), GetParam());
  EXPECT_FALSE(store_->describe().empty());
  std::string detail;
  EXPECT_TRUE(store_->ready(detail)) << detail;
}

TEST_P(HistoryStoreContract, OpeningTwiceAppliesMigrationsOnce) {
  ASSERT_TRUE(store_->touch_session("s1", at(0)).ok());
  ASSERT_TRUE(store_->save_utterance("s1", utterance(1, "hello")).ok());
  // A second store on the same database finds the schema current and the
  // data intact; a third open after closing both does too.
  auto second = open();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(load_ok(*second, "s1").utterances.size(), 1u);
  ASSERT_TRUE(second->save_utterance("s1", utterance(2, "again")).ok());
  second.reset();
  store_.reset();
  auto third = open();
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(load_ok(*third, "s1").utterances.size(), 2u);
}

TEST_P(HistoryStoreContract, RoundTripKeepsEveryField) {
  ASSERT_TRUE(store_->touch_session("abc", at(0)).ok());
  ASSERT_TRUE(store_->touch_session("abc", at(5000)).ok());
  UtteranceRecord u1 = utterance(1, "it's \"quoted\"; -- not SQL; ünïcödé 🎙");
  UtteranceRecord u2 = utterance(2, "second");
  u2.decode_ms = 0.1;  // not exact in binary: must come back as the same double
  ASSERT_TRUE(store_->save_utterance("abc", u2).ok());  // out of order on purpose
  ASSERT_TRUE(store_->save_utterance("abc", u1).ok());
  ThoughtsRecord t1 = thoughts(1, "Happy to help!");
  ASSERT_TRUE(store_->save_thoughts("abc", t1).ok());

  SessionHistory h = load_ok(*store_, "abc");
  EXPECT_EQ(h.session.id, "abc");
  EXPECT_EQ(h.session.created_at, at(0));
  EXPECT_EQ(h.session.last_activity, at(5000));
  ASSERT_EQ(h.utterances.size(), 2u);
  const UtteranceRecord& r1 = h.utterances[0];
  EXPECT_EQ(r1.seq, 1);
  EXPECT_EQ(r1.text, u1.text);
  EXPECT_EQ(r1.start_ms, u1.start_ms);
  EXPECT_EQ(r1.end_ms, u1.end_ms);
  EXPECT_EQ(r1.decode_ms, u1.decode_ms);
  EXPECT_EQ(r1.created_at, u1.created_at);
  EXPECT_EQ(h.utterances[1].seq, 2);
  EXPECT_EQ(h.utterances[1].decode_ms, 0.1);
  ASSERT_EQ(h.thoughts.size(), 1u);
  const ThoughtsRecord& r = h.thoughts[0];
  EXPECT_EQ(r.utterance_seq, 1);
  EXPECT_EQ(r.intent, t1.intent);
  EXPECT_EQ(r.person_is, t1.person_is);
  EXPECT_EQ(r.extra_state, t1.extra_state);
  EXPECT_EQ(r.thoughts, t1.thoughts);
  EXPECT_EQ(r.response, t1.response);
  EXPECT_EQ(r.engine, t1.engine);
  EXPECT_EQ(r.latency_ms, t1.latency_ms);
  EXPECT_EQ(r.created_at, t1.created_at);
}

TEST_P(HistoryStoreContract, NonFiniteTimingsAreStoredAsZero) {
  UtteranceRecord u = utterance(1, "x");
  u.decode_ms = std::numeric_limits<double>::quiet_NaN();
  ThoughtsRecord t = thoughts(1, "y");
  t.latency_ms = std::numeric_limits<double>::infinity();
  ASSERT_TRUE(store_->save_utterance("s", u).ok());
  ASSERT_TRUE(store_->save_thoughts("s", t).ok());
  SessionHistory h = load_ok(*store_, "s");
  ASSERT_EQ(h.utterances.size(), 1u);
  ASSERT_EQ(h.thoughts.size(), 1u);
  EXPECT_EQ(h.utterances[0].decode_ms, 0.0);
  EXPECT_EQ(h.thoughts[0].latency_ms, 0.0);
}

TEST_P(HistoryStoreContract, TouchNeverMovesLastActivityBack) {
  ASSERT_TRUE(store_->touch_session("s", at(10'000)).ok());
  ASSERT_TRUE(store_->touch_session("s", at(2'000)).ok());
  SessionHistory h = load_ok(*store_, "s");
  EXPECT_EQ(h.session.created_at, at(10'000));
  EXPECT_EQ(h.session.last_activity, at(10'000));
}

TEST_P(HistoryStoreContract, SavingAnUtteranceWithAnExistingSeqReplacesIt) {
  ASSERT_TRUE(store_->touch_session("s", at(0)).ok());
  ASSERT_TRUE(store_->save_utterance("s", utterance(1, "go")).ok());
  ASSERT_TRUE(store_->save_utterance("s", utterance(1, "go forward")).ok());
  UtteranceRecord longer = utterance(1, "go forward ten meters");
  longer.end_ms = 9999;
  ASSERT_TRUE(store_->save_utterance("s", longer).ok());
  SessionHistory h = load_ok(*store_, "s");
  ASSERT_EQ(h.utterances.size(), 1u);
  EXPECT_EQ(h.utterances[0].text, "go forward ten meters");
  EXPECT_EQ(h.utterances[0].end_ms, 9999);
}

TEST_P(HistoryStoreContract, SavingThoughtsAgainReplacesThem) {
  ASSERT_TRUE(store_->touch_session("s", at(0)).ok());
  ASSERT_TRUE(store_->save_thoughts("s", thoughts(1, "first")).ok());
  ThoughtsRecord again = thoughts(1, "second");
  again.engine = "llama";
  ASSERT_TRUE(store_->save_thoughts("s", again).ok());
  ASSERT_TRUE(store_->save_thoughts("s", thoughts(2, "other")).ok());
  SessionHistory h = load_ok(*store_, "s");
  ASSERT_EQ(h.thoughts.size(), 2u);
  EXPECT_EQ(h.thoughts[0].response, "second");
  EXPECT_EQ(h.thoughts[0].engine, "llama");
  EXPECT_EQ(h.thoughts[1].response, "other");
}

TEST_P(HistoryStoreContract, UnknownSessionLoadsAsNullopt) {
  ASSERT_TRUE(store_->touch_session("known", at(0)).ok());
  auto h = store_->load("never-stored");
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_FALSE(h->has_value());
}

TEST_P(HistoryStoreContract, SavingForAnUntouchedSessionCreatesIt) {
  ASSERT_TRUE(store_->save_utterance("fresh", utterance(1, "hi", 7000)).ok());
  SessionHistory h = load_ok(*store_, "fresh");
  EXPECT_EQ(h.utterances.size(), 1u);
  EXPECT_EQ(h.session.created_at, at(7001));
  ASSERT_TRUE(store_->save_thoughts("fresher", thoughts(1, "hey")).ok());
  EXPECT_EQ(load_ok(*store_, "fresher").thoughts.size(), 1u);
}

TEST_P(HistoryStoreContract, DeleteIdleRemovesOldSessionsWithTheirRows) {
  for (const char* id : {"old1", "old2", "new"}) {
    ASSERT_TRUE(store_->save_utterance(id, utterance(1, "text")).ok());
    ASSERT_TRUE(store_->save_thoughts(id, thoughts(1, "reply")).ok());
  }
  ASSERT_TRUE(store_->touch_session("old1", at(1'000)).ok());
  ASSERT_TRUE(store_->touch_session("old2", at(2'000)).ok());
  ASSERT_TRUE(store_->touch_session("new", at(60'000)).ok());

  auto n = store_->delete_idle(at(30'000));
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 2u);
  for (const char* id : {"old1", "old2"}) {
    auto h = store_->load(id);
    ASSERT_TRUE(h.ok());
    EXPECT_FALSE(h->has_value()) << id;
  }
  SessionHistory kept = load_ok(*store_, "new");
  EXPECT_EQ(kept.utterances.size(), 1u);
  EXPECT_EQ(kept.thoughts.size(), 1u);
  // The id comes back as a new, empty session: its rows went with it.
  ASSERT_TRUE(store_->touch_session("old1", at(70'000)).ok());
  SessionHistory reborn = load_ok(*store_, "old1");
  EXPECT_TRUE(reborn.utterances.empty());
  EXPECT_TRUE(reborn.thoughts.empty());

  auto none = store_->delete_idle(at(0));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);
}

TEST_P(HistoryStoreContract, EightConcurrentWritersLoseNothing) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20;
  std::vector<std::thread> writers;
  std::vector<std::string> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      const std::string id = "writer-" + std::to_string(t);
      for (int i = 1; i <= kPerThread; ++i) {
        Status s = store_->touch_session(id, at(i));
        if (s) s = store_->save_utterance(id, utterance(i, id + " says " + std::to_string(i)));
        if (s) s = store_->save_thoughts(id, thoughts(i, "reply " + std::to_string(i)));
        if (!s) {
          failures[static_cast<std::size_t>(t)] = s.error().message;
          return;
        }
        // Readers run alongside the writers.
        if (i % 5 == 0 && !store_->load(id).ok()) failures[static_cast<std::size_t>(t)] = "load";
      }
    });
  }
  for (std::thread& w : writers) w.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[static_cast<std::size_t>(t)], "") << "writer " << t;
    const std::string id = "writer-" + std::to_string(t);
    SessionHistory h = load_ok(*store_, id);
    ASSERT_EQ(h.utterances.size(), static_cast<std::size_t>(kPerThread)) << id;
    ASSERT_EQ(h.thoughts.size(), static_cast<std::size_t>(kPerThread)) << id;
    for (int i = 1; i <= kPerThread; ++i) {
      const auto& u = h.utterances[static_cast<std::size_t>(i - 1)];
      EXPECT_EQ(u.seq, i);
      EXPECT_EQ(u.text, id + " says " + std::to_string(i));  // no cross-talk
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, HistoryStoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const auto& param_info) { return param_info.param; });

TEST(OpenStore, RejectsAnUnknownBackendOrMissingTarget) {
  StoreParams p;
  p.backend = "mongodb";
  auto r = open_store(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidConfig);
  p.backend = "sqlite";
  r = open_store(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidConfig);
  p.backend = "postgres";
  r = open_store(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidConfig);
}

}  // namespace
}  // namespace scribepod::store
