// MindState: the rolling state of one conversation, as the original reason
// server kept it (SPEC.md §1).
//
// It holds the utterances (oldest first) and, for the four outputs the page
// shows, the last five DISTINCT values: a value seen again moves to the end
// instead of appearing twice, and the oldest falls off past five. `thoughts`
// collects both thoughts and extra_state, as the original did. Empty values
// are not recorded.
//
// Utterances follow the original's chunk protocol: chunk 1 starts a new
// utterance, chunk > 1 replaces the last one (the page re-sends the whole
// utterance so far).
//
// NOT thread-safe: the session manager owns each MindState and serialises
// access to it. Times are passed in, so tests and the expiry sweep agree on
// the clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "mind/thoughts.h"

namespace scribepod::mind {

enum class StateType { kListening, kResponding, kDone };
std::string_view state_type_name(StateType type);  // "listening", "responding", "done"

class MindState {
 public:
  using Clock = std::chrono::system_clock;
  static constexpr std::size_t kKeep = 5;

  explicit MindState(Clock::time_point now = Clock::now());

  // Records a transcription. chunk must be >= 1 (kBadRequest otherwise); a
  // chunk > 1 with no utterance yet starts one.
  Status update_conversation(std::string text, int chunk, Clock::time_point now = Clock::now());
  // Folds one Thoughts result into the rolling lists.
  void update_thoughts(const Thoughts& thoughts, Clock::time_point now = Clock::now());
  void set_state_type(StateType type, Clock::time_point now = Clock::now());

  // The conversation as ThinkRequest wants it: one "person: ..." line per
  // non-blank utterance (utterances are raw transcriptions).
  std::vector<std::string> conversation_lines() const;

  const std::vector<std::string>& utterances() const { return utterances_; }
  const std::deque<std::string>& thoughts() const { return thoughts_; }
  const std::deque<std::string>& derived_intent() const { return derived_intent_; }
  const std::deque<std::string>& subject_is() const { return subject_is_; }
  const std::deque<std::string>& responses() const { return responses_; }
  StateType state_type() const { return state_type_; }
  Clock::time_point last_activity() const { return last_activity_; }
  // The latest response, for GET /silence_detect ("" before the first).
  std::string latest_response() const;

  // The original's conversationState: {thoughts, derived_intent, subject_is,
  // responses}.
  nlohmann::json conversation_state_json() const;
  // conversationState plus conversation, stateType and lastActivity (ms
  // since the epoch, as the original's Date.now()).
  nlohmann::json to_json() const;

 private:
  std::vector<std::string> utterances_;
  std::deque<std::string> thoughts_;
  std::deque<std::string> derived_intent_;
  std::deque<std::string> subject_is_;
  std::deque<std::string> responses_;
  StateType state_type_ = StateType::kListening;
  Clock::time_point last_activity_;
};

}  // namespace scribepod::mind
