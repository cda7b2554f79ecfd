// plan_replay: what a resuming client missed, from the stored history: every
// final with utterance id > last_final and every thoughts with utterance id
// > last_thoughts, in utterance order (an utterance's final before its
// thoughts), each once.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "store/history_store.h"

namespace scribepod::live {

using ReplayItem = std::variant<store::UtteranceRecord, store::ThoughtsRecord>;

struct ReplayPlan {
  std::vector<ReplayItem> items;
  int64_t last_stored_utterance = 0;  // the highest stored utterance id
  int64_t last_stored_thoughts = 0;   // the highest utterance id with stored thoughts
};

ReplayPlan plan_replay(const store::SessionHistory& history, int64_t last_final,
                       int64_t last_thoughts);

}  // namespace scribepod::live
