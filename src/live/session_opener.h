// open_or_resume: the session behind a `start` message. Without a
// session_id it opens a new conversation and registers it for resume (a new
// token). With one, it claims the session from the ResumeRegistry with the
// token and plans the replay of what the client missed (resume_replay.h):
// the client's last_final / last_thoughts, or else what the previous
// connection was sent.
//
// Blocks on the store: call it from a worker pool.
#pragma once

#include <optional>
#include <string>

#include "live/conversations.h"
#include "live/resume_registry.h"
#include "live/resume_replay.h"
#include "live/stream_protocol.h"

namespace scribepod::live {

struct OpenedSession {
  Conversations::Registry::Handle handle;
  std::string token;
  bool resumed = false;
  ReplayPlan replay;
  int64_t last_final = 0;  // what the client has had, after the replay
  int64_t last_thoughts = 0;
};

struct OpenOutcome {
  std::optional<OpenedSession> session;
  // The session is still being flushed after its connection dropped: try
  // again shortly.
  bool retry = false;
  ProtocolError error;  // when neither
};

OpenOutcome open_or_resume(const StartMessage& start, Conversations& conversations,
                           ResumeRegistry& registry, bool still_draining_is_an_error);

}  // namespace scribepod::live
