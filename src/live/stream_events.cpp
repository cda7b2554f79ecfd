#include "live/stream_events.h"

#include <nlohmann/json.hpp>

namespace scribepod::live {
namespace {

using nlohmann::json;

json base(std::string_view type, int64_t seq) {
  json j;
  j["type"] = type;
  j["seq"] = seq;
  return j;
}

// Invalid UTF-8 from an engine must not make dump() throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

double round1(double v) { return static_cast<double>(static_cast<int64_t>(v * 10.0 + 0.5)) / 10.0; }

}  // namespace

std::string_view end_reason_name(EndReason reason) {
  switch (reason) {
    case EndReason::kSilence:
      return "silence";
    case EndReason::kMaxLength:
      return "max_length";
    case EndReason::kEndOfTurn:
      return "end_of_turn";
    case EndReason::kStop:
      return "stop";
    case EndReason::kShutdown:
      return "shutdown";
    case EndReason::kDisconnect:
      return "disconnect";
  }
  return "silence";
}

std::string session_event(int64_t seq, const SessionInfo& info) {
  json j = base("session", seq);
  j["session_id"] = info.session_id;
  j["resume_token"] = info.resume_token;
  j["resumed"] = info.resumed;
  j["replayed"] = info.replayed;
  j["asr_engine"] = info.asr_engine;
  j["mind_engine"] = info.mind_engine;
  j["limits"] = {{"max_frame_bytes", info.max_frame_bytes}};
  return dump(j);
}

std::string partial_event(int64_t seq, const PartialText& p) {
  json j = base("partial", seq);
  j["utterance_id"] = p.utterance_id;
  j["revision"] = p.revision;
  j["text"] = p.text;
  j["start_ms"] = samples_to_ms(p.start_sample);
  j["end_ms"] = samples_to_ms(p.end_sample);
  return dump(j);
}

std::string final_event(int64_t seq, const FinalText& f) {
  json j = base("final", seq);
  j["utterance_id"] = f.utterance_id;
  j["text"] = f.text;
  j["start_ms"] = samples_to_ms(f.start_sample);
  j["end_ms"] = samples_to_ms(f.end_sample);
  j["reason"] = end_reason_name(f.reason);
  return dump(j);
}

std::string final_event(int64_t seq, const store::UtteranceRecord& u) {
  json j = base("final", seq);
  j["utterance_id"] = u.seq;
  j["text"] = u.text;
  j["start_ms"] = u.start_ms;
  j["end_ms"] = u.end_ms;
  j["reason"] = "replay";
  return dump(j);
}

std::string thoughts_event(int64_t seq, int64_t utterance_id, const mind::Thoughts& t) {
  json j = base("thoughts", seq);
  j["utterance_id"] = utterance_id;
  j["intent"] = t.intent;
  j["person_is"] = t.person_is;
  j["extra_state"] = t.extra_state;
  j["thoughts"] = t.thoughts;
  j["response"] = t.response;
  j["engine"] = t.engine;
  j["latency_ms"] = round1(t.latency_ms);
  return dump(j);
}

std::string thoughts_event(int64_t seq, const store::ThoughtsRecord& t) {
  mind::Thoughts m{
      t.intent, t.person_is, t.extra_state, t.thoughts, t.response, t.engine, t.latency_ms, 0, 0};
  return thoughts_event(seq, t.utterance_seq, m);
}

std::string stats_event(int64_t seq, const FinalText& f, double final_to_thoughts_ms) {
  json j = base("stats", seq);
  j["utterance_id"] = f.utterance_id;
  j["endpoint_wait_ms"] = round1(f.endpoint_wait_ms);
  j["final_decode_ms"] = round1(f.final_decode_ms);
  j["speech_end_to_final_ms"] = round1(f.speech_end_to_final_ms);
  j["final_to_thoughts_ms"] = round1(final_to_thoughts_ms);
  j["audio_ms"] = samples_to_ms(f.end_sample - f.start_sample);
  j["partials_sent"] = f.partials_sent;
  j["partials_dropped"] = f.partials_dropped;
  return dump(j);
}

std::string busy_event(int64_t seq, int64_t retry_after_ms, std::string_view reason) {
  json j = base("busy", seq);
  j["retry_after_ms"] = retry_after_ms;
  j["reason"] = reason;
  return dump(j);
}

std::string error_event(int64_t seq, std::string_view code, std::string_view message) {
  json j = base("error", seq);
  j["code"] = code;
  j["message"] = message;
  return dump(j);
}

}  // namespace scribepod::live
