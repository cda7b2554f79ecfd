// GET /v1/stream: the live WebSocket endpoint (docs/streaming.md). This file
// is only the transport: it admits the upgrade, moves frames between one
// http::WebSocketConnection and one live::StreamSession, and closes the
// socket when the session says so. The protocol itself lives in the session.
//
// Admission, before the upgrade is accepted (after the middleware chain has
// checked the API key, from headers or `?api_key=`):
// - an Origin that is neither in `allowed_origins` nor the server's own
//   (http[s]://<Host>) is refused with 403 (no Origin: not a browser, fine);
// - beyond `max_streams` open streams, 503 with Retry-After.
// Then: text frames go to on_text, binary frames to on_audio, every event the
// session emits is queued in order (partials may be dropped under a full
// queue; the session hears on_partials_dropped), and an event with a
// close_code closes the connection with it. `seq` is stamped by the
// transport as each event is written, so it stays gap-free even when
// partials are dropped. A frame over `max_frame_bytes` gets an error
// (payload_too_large) and close 1009; no message for `idle_timeout` an error
// (request_timeout) and close 4408. When the client goes away the session
// hears on_disconnect. StreamHub::shutdown() tells every open session
// on_shutdown; each connection then ends when its session's last event is
// written, or at `shutdown_grace` at the latest.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/router.h"
#include "live/stream_session.h"

namespace scribepod::api {

using StreamSessionFactory =
    std::function<Result<std::unique_ptr<live::StreamSession>>(live::EventSink sink)>;

struct StreamRouteDeps {
  StreamSessionFactory make_session;
  std::size_t max_streams = 64;                      // live.max_streams
  std::size_t max_frame_bytes = 64 * 1024;           // live.max_frame_bytes
  std::chrono::milliseconds idle_timeout{30'000};    // live.idle_timeout
  std::vector<std::string> allowed_origins;          // cors.allowed_origins
  std::chrono::milliseconds shutdown_grace{10'000};  // server.shutdown_grace
  // How long a disconnected session may take to finish its work (finalise
  // and store the open utterance) before it is destroyed anyway.
  std::chrono::milliseconds finish_timeout{15'000};
  std::size_t max_queued_events = 64;  // per connection, see WebSocketOptions
  bool production = false;             // hide internals in refusals
};

// The open streams, for shutdown and the gauges.
class StreamHub {
 public:
  virtual ~StreamHub() = default;
  // Tells every open session on_shutdown and refuses new streams. Any
  // thread; idempotent.
  virtual void shutdown() = 0;
  virtual std::size_t open_streams() const = 0;
  // Partial events dropped so far because clients read too slowly.
  virtual std::uint64_t dropped_events() const = 0;
};

// Registers GET /v1/stream on `router` (an upgrade route, API key required).
// The hub must outlive the server's run().
std::shared_ptr<StreamHub> add_stream_routes(http::Router& router, StreamRouteDeps deps);

}  // namespace scribepod::api
