// Conversations: request keys (POST /conversation's Idempotency-Key) over the
// real heuristic thoughts engine and a temporary SQLite store. A retry under
// the key of the request that recorded the last utterance replaces it, so an
// utterance is stored once however often its request is retried.
#include "live/conversations.h"

#include <gtest/gtest.h>

#include <atomic>

#include "mind/engines.h"
#include "speech_samples.h"
#include "store/open_store.h"

namespace scribepod::live {
namespace {

// A test double: fails its first `failures` calls with kUpstreamFailed (as
// a model whose output stayed invalid), then answers with the real heuristic
// engine. It stands in for a thoughts engine that failed after the utterance
// was stored, which is what makes a client retry.
class FailingFirstThoughts final : public mind::ThoughtsEngine {
 public:
  explicit FailingFirstThoughts(int failures)
      : real_(mind::make_heuristic_thoughts().value()), failures_(failures) {}
  std::string name() const override { return real_->name(); }
  std::string describe() const override { return "test double: " + real_->describe(); }
  Result<mind::Thoughts> think(const mind::ThinkRequest& request) override {
    if (failures_.fetch_sub(1) > 0) return Error{ErrorCode::kUpstreamFailed, "test failure", {}};
    return real_->think(request);
  }

 private:
  std::unique_ptr<mind::ThoughtsEngine> real_;
  std::atomic<int> failures_;
};

class ConversationsTest : public ::testing::Test {
 protected:
  void open(int failures, std::size_t max_keys = 4096) {
    auto sp = store::default_store_params();
    sp.sqlite_path = (dir_.path() / "conversations.db").string();
    store_ = store::open_store(sp).value();
    ConversationOptions options;
    options.max_request_keys = max_keys;
    conversations_ = std::make_unique<Conversations>(
        std::make_shared<FailingFirstThoughts>(failures), store_, options);
    session_ = conversations_->open("").value().session;
  }
  Result<Turn> hear(const std::string& text, std::string_view key, int chunk = 1) {
    return conversations_->hear(session_, text, chunk, UtteranceTiming{}, key);
  }
  store::SessionHistory stored() const { return store_->load(session_->id).value().value(); }
  std::vector<std::string> stored_texts() const {
    std::vector<std::string> texts;
    for (const auto& u : stored().utterances) texts.push_back(u.text);
    return texts;
  }
  std::size_t stored_thoughts() const { return stored().thoughts.size(); }

  asr::samples::TempDir dir_;
  std::shared_ptr<store::HistoryStore> store_;
  std::unique_ptr<Conversations> conversations_;
  Conversations::Registry::Handle session_;
};

TEST_F(ConversationsTest, ARetryAfterFailedThoughtsReplacesTheUtteranceInsteadOfAddingOne) {
  open(/*failures=*/1);
  auto failed = hear("where is the station", "key-1");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(stored_texts(), std::vector<std::string>{"where is the station"});

  auto retried = hear("where is the station", "key-1");
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->utterance_seq, 1);
  ASSERT_TRUE(retried->thoughts.has_value());
  EXPECT_EQ(stored_texts(), std::vector<std::string>{"where is the station"});
  EXPECT_EQ(stored_thoughts(), 1U);
  std::lock_guard lock(session_->mu);
  EXPECT_EQ(session_->state.utterances().size(), 1U);
}

TEST_F(ConversationsTest, WithoutAKeyOrWithANewOneEachChunkOneIsANewUtterance) {
  open(/*failures=*/0);
  ASSERT_TRUE(hear("one", "").ok());
  ASSERT_TRUE(hear("one", "").ok());
  ASSERT_TRUE(hear("two", "key-a").ok());
  auto third = hear("three", "key-b");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->utterance_seq, 4);
  EXPECT_EQ(stored_texts(), (std::vector<std::string>{"one", "one", "two", "three"}));
}

TEST_F(ConversationsTest, AKeyThatRecordedAnEarlierUtteranceIsRefusedAndChangesNothing) {
  open(/*failures=*/0);
  ASSERT_TRUE(hear("first", "key-1").ok());
  ASSERT_TRUE(hear("second", "key-2").ok());
  auto stale = hear("first again", "key-1");
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(stale.error().message.find("utterance 1"), std::string::npos) << stale.error().message;
  EXPECT_EQ(stored_texts(), (std::vector<std::string>{"first", "second"}));

  // check_request_key() says the same without recording anything.
  const auto check = conversations_->check_request_key(session_, "key-1");
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().message, stale.error().message);
  EXPECT_TRUE(conversations_->check_request_key(session_, "key-2").ok());  // a retry of the last
  EXPECT_TRUE(conversations_->check_request_key(session_, "key-3").ok());  // never used
  EXPECT_TRUE(conversations_->check_request_key(session_, "").ok());
  EXPECT_EQ(stored_texts(), (std::vector<std::string>{"first", "second"}));

  // A key is per session: another conversation may use the same one.
  auto other = conversations_->open("").value().session;
  auto turn = conversations_->hear(other, "elsewhere", 1, UtteranceTiming{}, "key-1");
  ASSERT_TRUE(turn.ok()) << turn.error().message;
  EXPECT_EQ(turn->utterance_seq, 1);
}

TEST_F(ConversationsTest, TheOldestKeyIsForgottenWhenTheyAreFull) {
  open(/*failures=*/0, /*max_keys=*/1);
  ASSERT_TRUE(hear("first", "key-1").ok());
  ASSERT_TRUE(hear("first", "key-1").ok());  // remembered: replaced
  ASSERT_TRUE(hear("second", "key-2").ok());
  ASSERT_TRUE(hear("second", "key-2").ok());
  EXPECT_EQ(stored_texts(), (std::vector<std::string>{"first", "second"}));
  // key-1 made room for key-2: a repeat of it is a new request now.
  ASSERT_TRUE(hear("first", "key-1").ok());
  EXPECT_EQ(stored_texts(), (std::vector<std::string>{"first", "second", "first"}));
}

}  // namespace
}  // namespace scribepod::live
