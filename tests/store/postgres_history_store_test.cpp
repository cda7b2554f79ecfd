// PostgresHistoryStore against a real PostgreSQL server (PostgresServer, on
// loopback): it reconnects by itself across a server restart, says
// kUnavailable while the server is down, and never shows a password.
#include "store/postgres/postgres_history_store.h"

#include <gtest/gtest.h>

#include "postgres_server.h"
#include "store_test_util.h"

namespace scribepod::store {
namespace {

using test::at;
using test::thoughts;
using test::utterance;

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!testing::PostgresServer::available(why)) GTEST_SKIP() << why;
    Status s = server_.start();
    ASSERT_TRUE(s.ok()) << s.error().message;
    params_.url = server_.url();
    params_.connect_timeout_s = 2;
    auto store = PostgresHistoryStore::open(params_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
  }

  std::size_t utterance_count(const std::string& id) {
    auto h = store_->load(id);
    EXPECT_TRUE(h.ok()) << h.error().message;
    return h.ok() && h->has_value() ? (*h)->utterances.size() : 0;
  }

  testing::PostgresServer server_;
  PostgresParams params_;
  std::unique_ptr<PostgresHistoryStore> store_;
};

TEST_F(PostgresStoreTest, ServerRestartBetweenWritesLosesNothing) {
  ASSERT_TRUE(store_->save_utterance("s", utterance(1, "before")).ok());
  ASSERT_TRUE(store_->save_thoughts("s", thoughts(1, "reply")).ok());
  Status r = server_.restart();
  ASSERT_TRUE(r.ok()) << r.error().message;
  // The store's connection died with the old server; this write finds it
  // broken, reconnects and retries, and succeeds.
  Status s = store_->save_utterance("s", utterance(2, "after"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto h = store_->load("s");
  ASSERT_TRUE(h.ok() && h->has_value());
  ASSERT_EQ((*h)->utterances.size(), 2u);
  EXPECT_EQ((*h)->utterances[0].text, "before");
  EXPECT_EQ((*h)->utterances[1].text, "after");
  EXPECT_EQ((*h)->thoughts.size(), 1u);
}

TEST_F(PostgresStoreTest, StoppedServerIsUnavailableThenComesBack) {
  ASSERT_TRUE(store_->save_utterance("s", utterance(1, "kept")).ok());
  ASSERT_TRUE(server_.stop().ok());

  Status s = store_->save_utterance("s", utterance(2, "refused"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(s.error().message,
            "history store: PostgreSQL unreachable at 127.0.0.1:" + std::to_string(server_.port()));
  auto load = store_->load("s");
  ASSERT_FALSE(load.ok());
  EXPECT_EQ(load.error().code, ErrorCode::kUnavailable);
  auto del = store_->delete_idle(at(0));
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.error().code, ErrorCode::kUnavailable);
  std::string detail;
  EXPECT_FALSE(store_->ready(detail));
  EXPECT_NE(detail.find("unreachable"), std::string::npos) << detail;

  Status started = server_.start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_TRUE(store_->ready(detail)) << detail;
  ASSERT_TRUE(store_->save_utterance("s", utterance(3, "after")).ok());
  EXPECT_EQ(utterance_count("s"), 2u);  // 1 and 3: the refused write was not stored
}

TEST_F(PostgresStoreTest, ReadyNoticesAServerThatWentAwayWhileIdle) {
  std::string detail;
  EXPECT_TRUE(store_->ready(detail)) << detail;
  ASSERT_TRUE(server_.stop().ok());
  EXPECT_FALSE(store_->ready(detail));
  ASSERT_TRUE(server_.start().ok());
  EXPECT_TRUE(store_->ready(detail)) << detail;
}

TEST_F(PostgresStoreTest, ARejectedWriteIsRolledBackAndTheConnectionStaysUsable) {
  ASSERT_TRUE(store_->save_utterance("s", utterance(1, "fine")).ok());
  // PostgreSQL refuses text that is not UTF-8 (SQLite would store it). The
  // session row of that transaction must not survive either.
  Status s = store_->save_utterance("other", utterance(1, std::string("bad \xff\xfe bytes")));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kBadRequest) << s.error().message;
  auto other = store_->load("other");
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_FALSE(other->has_value());
  ASSERT_TRUE(store_->save_utterance("s", utterance(2, "still fine")).ok());
  EXPECT_EQ(utterance_count("s"), 2u);
}

TEST_F(PostgresStoreTest, DescribeNeverShowsThePassword) {
  // The test server trusts loopback, so it ignores the password; the store
  // must still keep it out of describe().
  PostgresParams p = params_;
  p.url =
      "postgresql://postgres:s3cret-pw@127.0.0.1:" + std::to_string(server_.port()) + "/postgres";
  auto store = PostgresHistoryStore::open(p);
  ASSERT_TRUE(store.ok()) << store.error().message;
  const std::string d = (*store)->describe();
  EXPECT_EQ(d, "postgresql://postgres@127.0.0.1:" + std::to_string(server_.port()) + "/postgres");
  EXPECT_EQ(d.find("s3cret"), std::string::npos);
  std::string detail;
  EXPECT_TRUE((*store)->ready(detail));
  EXPECT_EQ(detail.find("s3cret"), std::string::npos);
}

TEST_F(PostgresStoreTest, OpeningAgainstNoServerIsUnavailable) {
  ASSERT_TRUE(server_.stop().ok());
  auto store = PostgresHistoryStore::open(params_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(store.error().message.find("127.0.0.1:" + std::to_string(server_.port())),
            std::string::npos);
}

TEST_F(PostgresStoreTest, MalformedUrlIsInvalidConfigWithoutEchoingIt) {
  PostgresParams p = params_;
  p.url = "postgresql://u:pw-secret@127.0.0.1:5432/db?no_such_option=1";
  auto store = PostgresHistoryStore::open(p);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidConfig);
  EXPECT_EQ(store.error().message.find("pw-secret"), std::string::npos);
}

}  // namespace
}  // namespace scribepod::store
