// Thoughts: what the listening agent makes of a conversation after each
// utterance, the five fields of the original reason server:
//
//   intent       what the speaker is trying to do
//   person_is    what kind of person they seem to be
//   extra_state  one more thing that can be inferred
//   thoughts     a listener's free associations about what was said
//   response     what the agent would say back
//
// A ThoughtsEngine produces them from the conversation so far. Two kinds
// exist: LlmThoughts (any llm::Generator, one schema-constrained generation
// for all five fields, validated and repaired once) and HeuristicThoughts
// (deterministic, no model; the embedded default). Every result names the
// engine that made it, so a heuristic answer is never mistaken for a model's.
//
// Implementations are thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scribepod::mind {

struct Thoughts {
  std::string intent;
  std::string person_is;
  std::string extra_state;
  std::string thoughts;
  std::string response;
  std::string engine;     // "heuristic", "llama", "openai"
  double latency_ms = 0;  // wall time of think()
  int prompt_tokens = 0;  // 0 for the heuristic engine
  int completion_tokens = 0;
};

struct ThinkRequest {
  // The conversation, oldest first, one line per utterance in the original's
  // form: "person: what they said". At least one line.
  std::vector<std::string> conversation;
  // Called with each new piece of the `response` field as it is generated
  // (engines that cannot stream call it once with the whole response).
  // Returning false cancels. May be empty.
  std::function<bool(std::string_view piece)> on_response;
};

class ThoughtsEngine {
 public:
  virtual ~ThoughtsEngine() = default;
  virtual std::string name() const = 0;      // "heuristic", "llama", "openai"
  virtual std::string describe() const = 0;  // for /health and /ready
  virtual bool ready(std::string& detail) const {
    detail = describe();
    return true;
  }
  // Fails with kBadRequest for an empty conversation, kUpstreamFailed when
  // the model's output stayed invalid after one repair attempt, and the
  // generator's own errors (kUnavailable, kUpstreamTimeout, ...) otherwise.
  virtual Result<Thoughts> think(const ThinkRequest& request) = 0;
};

}  // namespace scribepod::mind
