#include "mind/mind_state.h"

#include <algorithm>
#include <utility>

namespace scribepod::mind {
namespace {

// Most recent kept: a repeated value moves to the end; at most kKeep.
void remember(std::deque<std::string>& values, const std::string& value) {
  if (value.empty()) return;
  auto it = std::find(values.begin(), values.end(), value);
  if (it != values.end()) values.erase(it);
  values.push_back(value);
  while (values.size() > MindState::kKeep) values.pop_front();
}

nlohmann::json to_array(const std::deque<std::string>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : values) out.push_back(v);
  return out;
}

}  // namespace

std::string_view state_type_name(StateType type) {
  switch (type) {
    case StateType::kListening:
      return "listening";
    case StateType::kResponding:
      return "responding";
    case StateType::kDone:
      return "done";
  }
  return "listening";
}

MindState::MindState(Clock::time_point now) : last_activity_(now) {}

Status MindState::update_conversation(std::string text, int chunk, Clock::time_point now) {
  if (chunk < 1) return Error::bad_request("chunk must be 1 or more");
  last_activity_ = now;
  if (chunk == 1 || utterances_.empty()) {
    utterances_.push_back(std::move(text));
  } else {
    utterances_.back() = std::move(text);
  }
  return {};
}

void MindState::update_thoughts(const Thoughts& thoughts, Clock::time_point now) {
  last_activity_ = now;
  remember(thoughts_, thoughts.thoughts);
  remember(thoughts_, thoughts.extra_state);
  remember(derived_intent_, thoughts.intent);
  remember(subject_is_, thoughts.person_is);
  remember(responses_, thoughts.response);
}

void MindState::set_state_type(StateType type, Clock::time_point now) {
  state_type_ = type;
  last_activity_ = now;
}

std::vector<std::string> MindState::conversation_lines() const {
  std::vector<std::string> lines;
  lines.reserve(utterances_.size());
  for (const auto& u : utterances_) {
    if (u.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    lines.push_back("person: " + u);
  }
  return lines;
}

std::string MindState::latest_response() const {
  return responses_.empty() ? std::string() : responses_.back();
}

nlohmann::json MindState::conversation_state_json() const {
  return nlohmann::json{{"thoughts", to_array(thoughts_)},
                        {"derived_intent", to_array(derived_intent_)},
                        {"subject_is", to_array(subject_is_)},
                        {"responses", to_array(responses_)}};
}

nlohmann::json MindState::to_json() const {
  nlohmann::json out = conversation_state_json();
  out["conversation"] = utterances_;
  out["stateType"] = std::string(state_type_name(state_type_));
  out["lastActivity"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(last_activity_.time_since_epoch())
          .count();
  return out;
}

}  // namespace scribepod::mind
