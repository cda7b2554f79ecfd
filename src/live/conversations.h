// Conversations: the listening agent's domain service, shared by the
// original REST flow (api/conversation_routes) and the live stream.
//
// Each conversation is a mind::MindState held in a SessionRegistry under its
// session id, mirrored to the HistoryStore. One turn is:
//
//   hear()  record an utterance (store first, then memory: nothing is
//           acknowledged that the store did not take), then think about the
//           conversation so far without holding the session lock, then fold
//           the thoughts into the state and store them.
//
// A request may carry a key (POST /conversation's Idempotency-Key): hearing
// again under a key that recorded the conversation's last utterance replaces
// that utterance instead of recording it twice, so a client may retry a
// request whose response it lost, or whose thoughts failed after the
// utterance was stored. The keys are kept in memory (the last
// `max_request_keys` of this server), not in the store.
//
// A conversation evicted from memory (idle expiry, a restart) comes back
// from the store under the same id the next time its holder presents it.
//
// All methods block (the store, the thoughts engine): call them from a worker
// pool, never from an I/O thread. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "mind/mind_state.h"
#include "mind/thoughts.h"
#include "session/session_registry.h"
#include "store/history_store.h"

namespace scribepod::live {

struct ConversationOptions {
  session::RegistryOptions registry;
  std::size_t max_history_lines = 20;   // lines given to the thoughts engine
  std::size_t max_request_keys = 4096;  // request keys remembered, all sessions together
};

// What a turn produced.
struct Turn {
  std::string session_id;
  int64_t utterance_seq = 0;
  std::string text;                        // the utterance as recorded
  std::optional<mind::Thoughts> thoughts;  // none when there is nothing to think about yet
  nlohmann::json conversation_state;       // {thoughts, derived_intent, subject_is, responses}
};

// Timings of an utterance, for the store.
struct UtteranceTiming {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  double decode_ms = 0;
};

class Conversations {
 public:
  using Registry = session::SessionRegistry<mind::MindState>;

  Conversations(std::shared_ptr<mind::ThoughtsEngine> engine,
                std::shared_ptr<store::HistoryStore> store, ConversationOptions options);

  // The conversation for a validated id, or a new one ("" or unknown id).
  Result<Registry::Lookup> open(const std::string& id);

  // Records `text` as chunk `chunk` of the conversation (1 = a new utterance,
  // > 1 = replaces the last one, as the original page re-sends it) and
  // thinks about it. `on_response` streams the response as it is generated.
  // Fails with kBadRequest for chunk < 1, the store's error when the
  // utterance could not be stored (nothing changes then), or the engine's
  // error (the utterance stays recorded). `request_key` (may be empty): a
  // key this session used before for its last utterance makes this a
  // replacement of it whatever `chunk` says; a key used for an earlier one
  // fails with kBadRequest and changes nothing.
  Result<Turn> hear(const Registry::Handle& session, std::string text, int chunk,
                    const UtteranceTiming& timing, std::string_view request_key = {},
                    std::function<bool(std::string_view)> on_response = {});

  // What hear() would say of `request_key` now, without recording anything:
  // kBadRequest when this session used it for an utterance before its last
  // one, so a caller can refuse the request before transcribing it. Empty
  // and unused keys pass. (hear() checks again under the session lock.)
  Status check_request_key(const Registry::Handle& session, std::string_view request_key) const;

  // Thinks about a conversation given whole (POST /generate_thots): no
  // session, nothing stored.
  Result<mind::Thoughts> think(std::vector<std::string> conversation_lines);

  // Ends the speaker's turn (the original's silence_detect): the state
  // becomes "done" and the latest response is returned.
  std::string end_turn(const Registry::Handle& session);

  // The stored history of a session; std::nullopt when the store never saw it.
  Result<std::optional<store::SessionHistory>> history(const std::string& id) const;

  Registry& registry() { return *registry_; }
  const mind::ThoughtsEngine& engine() const { return *engine_; }
  const store::HistoryStore& store() const { return *store_; }

 private:
  std::optional<mind::MindState> restore(const std::string& id) const;
  // The utterance seq `request_key` recorded in session `id`, if any;
  // kBadRequest when that is not the conversation's last (`count`).
  Result<std::optional<int64_t>> recorded_by(const std::string& id, std::string_view request_key,
                                             int64_t count) const;

  // (session id, request key) -> the utterance seq it recorded; the oldest
  // key goes first when full.
  class RequestKeys {
   public:
    explicit RequestKeys(std::size_t capacity) : capacity_(capacity) {}
    std::optional<int64_t> find(const std::string& session_id, std::string_view key) const;
    void remember(const std::string& session_id, std::string_view key, int64_t seq);

   private:
    static std::string entry(const std::string& session_id, std::string_view key);
    mutable std::mutex mu_;
    std::size_t capacity_;
    std::unordered_map<std::string, int64_t> seq_;
    std::deque<std::string> order_;
  };

  std::shared_ptr<mind::ThoughtsEngine> engine_;
  std::shared_ptr<store::HistoryStore> store_;
  ConversationOptions options_;
  std::unique_ptr<Registry> registry_;
  RequestKeys request_keys_;
};

}  // namespace scribepod::live
