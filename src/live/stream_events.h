// The server's events on /v1/stream (docs/streaming.md), as JSON text. Each
// function builds one event object with its `type` and the `seq` the
// session assigns; nothing here decides when an event is sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "live/frames.h"
#include "store/history_store.h"

namespace scribepod::live {

struct SessionInfo {
  std::string session_id;
  std::string resume_token;
  bool resumed = false;
  int64_t replayed = 0;
  std::string asr_engine;
  std::string mind_engine;
  std::size_t max_frame_bytes = 0;
};

std::string session_event(int64_t seq, const SessionInfo& info);
std::string partial_event(int64_t seq, const PartialText& p);
std::string final_event(int64_t seq, const FinalText& f);
// A replayed final from the store (reason unknown there: "replay").
std::string final_event(int64_t seq, const store::UtteranceRecord& u);
std::string thoughts_event(int64_t seq, int64_t utterance_id, const mind::Thoughts& t);
std::string thoughts_event(int64_t seq, const store::ThoughtsRecord& t);
std::string stats_event(int64_t seq, const FinalText& f, double final_to_thoughts_ms);
std::string busy_event(int64_t seq, int64_t retry_after_ms, std::string_view reason);
std::string error_event(int64_t seq, std::string_view code, std::string_view message);

}  // namespace scribepod::live
