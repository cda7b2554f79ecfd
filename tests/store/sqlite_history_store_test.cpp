// SqliteHistoryStore on a real file: restarts lose nothing, the file is in
// WAL mode at the current schema version, and a full disk (made full with
// PRAGMA max_page_count, no root needed) is a kIo error that leaves the
// earlier data intact.
#include "store/sqlite/sqlite_history_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "store_test_util.h"

namespace scribepod::store {
namespace {

using test::at;
using test::thoughts;
using test::utterance;

std::unique_ptr<SqliteHistoryStore> open_ok(const SqliteParams& p) {
  auto s = SqliteHistoryStore::open(p);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? std::move(s).value() : nullptr;
}

// Reads one PRAGMA through a separate plain connection.
std::string pragma(const std::string& path, const std::string& name) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    const std::string sql = "PRAGMA " + name;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return out;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    params_.path = dir_.path() + "/nested/dir/scribepod.db";
  }
  test::TempDir dir_;
  SqliteParams params_;
};

TEST_F(SqliteStoreTest, CreatesTheParentDirectoryAndUsesWalAtTheCurrentSchema) {
  auto store = open_ok(params_);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(params_.path));
  EXPECT_EQ(store->describe(), params_.path);
  EXPECT_EQ(pragma(params_.path, "journal_mode"), "wal");
  EXPECT_EQ(pragma(params_.path, "user_version"),
            std::to_string(SqliteHistoryStore::schema_version()));
}

TEST_F(SqliteStoreTest, ReopeningAfterCloseKeepsEverything) {
  {
    auto store = open_ok(params_);
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= 5; ++i) {
      ASSERT_TRUE(store->save_utterance("s", utterance(i, "line " + std::to_string(i))).ok());
      ASSERT_TRUE(store->save_thoughts("s", thoughts(i, "reply")).ok());
    }
    ASSERT_TRUE(store->touch_session("s", at(99'000)).ok());
  }  // closed: as after a restart
  auto store = open_ok(params_);
  ASSERT_NE(store, nullptr);
  auto h = store->load("s");
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ((*h)->utterances.size(), 5u);
  EXPECT_EQ((*h)->thoughts.size(), 5u);
  EXPECT_EQ((*h)->utterances[4].text, "line 5");
  EXPECT_EQ((*h)->session.last_activity, at(99'000));
}

TEST_F(SqliteStoreTest, FullDiskIsAnIoErrorAndTheEarlierDataStays) {
  {
    auto store = open_ok(params_);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->save_utterance("s", utterance(1, "before the disk filled")).ok());
  }
  // A cap below the current size clamps to it: the next page is "full".
  SqliteParams capped = params_;
  capped.max_page_count = 1;
  auto store = open_ok(capped);
  ASSERT_NE(store, nullptr);
  const std::string big(256 * 1024, 'x');  // needs new pages
  Status s = store->save_utterance("s", utterance(2, big));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_NE(s.error().message.find("disk full writing utterance 2"), std::string::npos)
      << s.error().message;
  std::string detail;
  EXPECT_FALSE(store->ready(detail));
  EXPECT_NE(detail.find("disk full"), std::string::npos) << detail;

  // Nothing half-written, nothing lost, and the store still answers.
  auto h = store->load("s");
  ASSERT_TRUE(h.ok() && h->has_value()) << (h.ok() ? "missing" : h.error().message);
  ASSERT_EQ((*h)->utterances.size(), 1u);
  EXPECT_EQ((*h)->utterances[0].text, "before the disk filled");
  // Small writes that fit in free space still succeed, and ready() recovers.
  ASSERT_TRUE(store->touch_session("s", at(5)).ok());
  EXPECT_TRUE(store->ready(detail)) << detail;

  // Once there is room again (no cap), the same write goes through.
  store.reset();
  store = open_ok(params_);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->save_utterance("s", utterance(2, big)).ok());
  h = store->load("s");
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ((*h)->utterances.size(), 2u);
}

TEST_F(SqliteStoreTest, TwoConnectionsToOneFileSeeEachOthersWrites) {
  auto a = open_ok(params_);
  auto b = open_ok(params_);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->save_utterance("s", utterance(1, "from a")).ok());
  ASSERT_TRUE(b->save_utterance("s", utterance(2, "from b")).ok());
  auto h = a->load("s");
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ((*h)->utterances.size(), 2u);
}

TEST_F(SqliteStoreTest, UnusablePathIsAnIoError) {
  const std::string file = dir_.path() + "/not-a-dir";
  std::ofstream(file) << "x";
  SqliteParams p;
  p.path = file + "/scribepod.db";
  auto s = SqliteHistoryStore::open(p);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
}

TEST_F(SqliteStoreTest, NotADatabaseIsAnIoError) {
  std::filesystem::create_directories(dir_.path() + "/nested/dir");
  std::ofstream(params_.path) << std::string(4096, 'z');
  auto s = SqliteHistoryStore::open(params_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo) << s.error().message;
}

}  // namespace
}  // namespace scribepod::store
