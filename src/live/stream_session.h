// StreamSession: one live stream (one WebSocket connection), independent of
// the transport. The transport (api/stream_routes) parses nothing but frames:
// it hands text frames to on_text() and binary frames to on_audio(), and
// sends whatever the session emits through its EventSink, in order.
//
// Inside, the session is a pipeline of stages that pass typed frames
// (docs/architecture.md): audio (PCM16 or Opus) → resample to 16 kHz →
// voice activity and adaptive endpointing → incremental recognition
// (partials at a bounded cadence, one final per utterance) → store → mind
// (thoughts) → events. The protocol is docs/streaming.md.
//
// Threading: on_* calls come from the transport's strand and never block;
// CPU work runs on the shared compute pool, serialised per session, so
// events are produced in order. The sink is called from that serial context
// (never concurrently with itself); it must not block. Partial events are
// marked droppable: a transport whose send queue is full may drop them (and
// should report it with busy()), never anything else.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace scribepod::live {

struct Event {
  std::string json;        // one JSON object, "type" and "seq" included
  bool droppable = false;  // partials
  // Set on the last event of a stream: after sending it the transport closes
  // the WebSocket with this code (1000 normal, 1001 shutdown, 1007, ...).
  int close_code = 0;
};

using EventSink = std::function<void(Event)>;

class StreamSession {
 public:
  virtual ~StreamSession() = default;
  // A text frame from the client (start, end_of_turn, stop).
  virtual void on_text(std::string_view text) = 0;
  // A binary frame (audio).
  virtual void on_audio(std::span<const uint8_t> bytes) = 0;
  // The connection dropped: finalise and store the open utterance, keep the
  // session resumable for the grace period. No more events are sent.
  virtual void on_disconnect() = 0;
  // The server is stopping: finalise and store the open utterance, send its
  // events, then an error(shutting_down) event with close code 1001.
  virtual void on_shutdown() = 0;
  // The transport dropped `count` partial events because the client is slow.
  virtual void on_partials_dropped(std::size_t count) = 0;
  // True once the session has emitted its last event (close_code set) or
  // was disconnected, and all its work is finished.
  virtual bool finished() const = 0;
};

}  // namespace scribepod::live
