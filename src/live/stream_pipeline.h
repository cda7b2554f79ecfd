// make_stream_session: builds the live pipeline behind one /v1/stream
// connection (stream_session.h, docs/streaming.md).
//
// Stages, each in its own file, pass typed frames (frames.h):
//   AudioInput (pcm16 / Opus → 16 kHz) → UtteranceSegmenter (VAD, adaptive
//   endpointing, forced split) → RecognitionStage (incremental recognition,
//   partials, one final per utterance) → Conversations::hear on the mind
//   pool (store, then thoughts) → events.
// The control messages are parsed by stream_protocol.h, the events written
// by stream_events.h, and ResumeRegistry keeps dropped sessions resumable.
//
// Threading. The transport calls on_*() from one serial context; they
// validate and admit frames (frame size, rate, backlog) without blocking and
// post the work to a strand over `compute`, so a session's CPU work is
// serial and its events are in order while sessions share the pool fairly
// (one task at a time each). Thoughts run on a strand over `mind` and come
// back to the compute strand to be sent, so a slow thoughts engine delays
// only thoughts, never the next utterance's partials or final.
//
// The session object may be destroyed as soon as the transport is done with
// it: queued work keeps the pipeline alive, and after on_disconnect() or the
// destructor the sink is never called again. The transport should call
// on_disconnect() (or on_shutdown()) before dropping a session that is not
// finished(), so its open utterance is stored. The two pools must outlive
// every session's work: work passes between them, so at shutdown wait for
// finished() on every session before joining either pool.
//
// A close event whose json is empty means "send nothing more, close with
// close_code" (after `stop`, 1000).
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "asr/recognizer.h"
#include "config/config.h"
#include "core/result.h"
#include "live/conversations.h"
#include "live/resume_registry.h"
#include "live/stream_session.h"

namespace scribepod::live {

struct StreamDeps {
  std::shared_ptr<asr::Recognizer> recognizer;
  std::shared_ptr<Conversations> conversations;
  boost::asio::thread_pool& compute;  // recogniser and VAD work
  boost::asio::thread_pool& mind;     // thoughts (blocking: store, engine)
  config::LiveConfig live;            // copied: limits and endpointing
  std::string language;               // for the recogniser ("" = its default)
  ResumeRegistry& resume;
  // Wall clock (rate limit, latency); tests may replace it.
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
  // Pre-roll kept before the VAD's onset.
  std::chrono::milliseconds preroll{200};
  // Audio a client may send at once beyond max_realtime_factor (catch-up
  // after a network stall).
  std::chrono::milliseconds rate_burst{5000};
};

// Fails with kInvalidConfig when a dependency is missing or the endpointing
// settings are inconsistent.
Result<std::unique_ptr<StreamSession>> make_stream_session(StreamDeps& deps, EventSink sink);

}  // namespace scribepod::live
