#include "live/resume_replay.h"

#include <algorithm>
#include <map>

namespace scribepod::live {

ReplayPlan plan_replay(const store::SessionHistory& history, int64_t last_final,
                       int64_t last_thoughts) {
  // Keyed by utterance id, so the store's order and any repeated rows
  // (a replaced utterance) cannot produce duplicates or disorder.
  std::map<int64_t, const store::UtteranceRecord*> finals;
  std::map<int64_t, const store::ThoughtsRecord*> thoughts;
  ReplayPlan plan;
  for (const auto& u : history.utterances) {
    plan.last_stored_utterance = std::max(plan.last_stored_utterance, u.seq);
    if (u.seq > last_final) finals[u.seq] = &u;
  }
  for (const auto& t : history.thoughts) {
    plan.last_stored_thoughts = std::max(plan.last_stored_thoughts, t.utterance_seq);
    if (t.utterance_seq > last_thoughts) thoughts[t.utterance_seq] = &t;
  }
  auto f = finals.begin();
  auto t = thoughts.begin();
  while (f != finals.end() || t != thoughts.end()) {
    if (t == thoughts.end() || (f != finals.end() && f->first <= t->first)) {
      plan.items.emplace_back(*f->second);
      ++f;
    } else {
      plan.items.emplace_back(*t->second);
      ++t;
    }
  }
  return plan;
}

}  // namespace scribepod::live
