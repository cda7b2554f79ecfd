#include "live/stream_pipeline.h"

#include "live/live_pipeline.h"

namespace scribepod::live {

Result<std::unique_ptr<StreamSession>> make_stream_session(StreamDeps& deps, EventSink sink) {
  if (!deps.recognizer || !deps.conversations || !sink) {
    return Error::invalid_config("a live stream needs a recogniser, conversations and a sink");
  }
  if (deps.live.max_realtime_factor <= 0) {
    return Error::invalid_config("live.max_realtime_factor must be positive");
  }
  if (auto seg = UtteranceSegmenter::create(segmenter_params(deps.live, deps.preroll)); !seg) {
    return std::move(seg).take_error();
  }
  return make_live_pipeline(deps, std::move(sink));
}

}  // namespace scribepod::live
