// Internal to src/live: the pipeline behind make_stream_session()
// (stream_pipeline.h), which validates the dependencies first.
#pragma once

#include <chrono>
#include <memory>

#include "live/stream_pipeline.h"
#include "live/utterance_segmenter.h"

namespace scribepod::live {

inline SegmenterParams segmenter_params(const config::LiveConfig& live,
                                        std::chrono::milliseconds preroll) {
  SegmenterParams p;
  p.preroll = preroll;
  p.endpoint_silence = live.endpoint_silence;
  p.endpoint_min_silence = live.endpoint_min_silence;
  p.endpoint_max_silence = live.endpoint_max_silence;
  p.pause_silence = live.pause_silence;
  p.max_utterance = live.max_utterance;
  return p;
}

// Assumes deps were validated.
std::unique_ptr<StreamSession> make_live_pipeline(StreamDeps& deps, EventSink sink);

}  // namespace scribepod::live
