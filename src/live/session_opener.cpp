#include "live/session_opener.h"

#include <algorithm>

namespace scribepod::live {
namespace {

OpenOutcome failure(std::string code, std::string message, int close_code) {
  OpenOutcome o;
  o.error = ProtocolError{std::move(code), std::move(message), close_code};
  return o;
}

}  // namespace

OpenOutcome open_or_resume(const StartMessage& start, Conversations& conversations,
                           ResumeRegistry& registry, bool still_draining_is_an_error) {
  OpenedSession s;
  ResumeRegistry::Progress progress;
  s.resumed = !start.session_id.empty();
  if (s.resumed) {
    const auto claim = registry.claim(start.session_id, start.resume_token, progress);
    if (claim == ResumeRegistry::Claim::kDraining && !still_draining_is_an_error) {
      OpenOutcome o;
      o.retry = true;
      return o;
    }
    if (claim != ResumeRegistry::Claim::kResumed) {
      return failure("bad_request", "unknown or expired session, or a wrong resume token", 1008);
    }
    s.token = start.resume_token;
  }
  auto opened = conversations.open(start.session_id);
  if (!opened) {
    return failure(std::string(error_code_name(opened.error().code)), opened.error().message, 1011);
  }
  s.handle = opened->session;
  if (s.resumed) {
    auto history = conversations.history(start.session_id);
    if (!history) return failure("unavailable", history.error().message, 1013);
    const int64_t last_final = start.last_final.value_or(progress.last_final);
    const int64_t last_thoughts = start.last_thoughts.value_or(progress.last_thoughts);
    if (history->has_value()) s.replay = plan_replay(**history, last_final, last_thoughts);
    s.last_final = std::max(last_final, s.replay.last_stored_utterance);
    s.last_thoughts = std::max(last_thoughts, s.replay.last_stored_thoughts);
  } else {
    auto token = registry.add(s.handle->id);
    if (!token) return failure("internal_error", token.error().message, 1011);
    s.token = *token;
  }
  OpenOutcome o;
  o.session = std::move(s);
  return o;
}

}  // namespace scribepod::live
