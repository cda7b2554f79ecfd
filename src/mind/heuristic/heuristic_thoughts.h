// HeuristicThoughts: thoughts without a model, from rules alone. It is the
// embedded default when no language model is configured, and it says so:
// every result has engine "heuristic".
//
//   intent       the dialogue act of the latest utterance (dialogue_act.h),
//                phrased as "this person's intent is ...": "to find out how
//                to go about ...", "to get the agent to ..."
//   person_is    speaker cues over the whole conversation (speaker_cues.h)
//   extra_state  one inferred fact: the topic they keep returning to, how
//                they feel, or how long they have been talking
//   thoughts     associations from the key phrases (key_phrases.h)
//   response     a template that fits the act: greeting back, seeking the
//                answer together, acknowledging an opinion, asking for more
//
// Deterministic: the same conversation always gives the same thoughts (the
// wording varies between conversations by a stable hash). Thread-safe: it
// holds no mutable state.
#pragma once

#include <cstddef>
#include <string>

#include "mind/thoughts.h"

namespace scribepod::mind {

struct HeuristicParams {
  std::size_t max_key_phrases = 3;
};
HeuristicParams default_heuristic_params();

class HeuristicThoughts final : public ThoughtsEngine {
 public:
  explicit HeuristicThoughts(HeuristicParams params = default_heuristic_params());

  std::string name() const override { return "heuristic"; }
  std::string describe() const override;
  Result<Thoughts> think(const ThinkRequest& request) override;

 private:
  HeuristicParams params_;
};

}  // namespace scribepod::mind
