// The one mapping from scribepod::Error to an HTTP response.
//
// Bodies are JSON {error, message, retryable, timestamp}. Internal errors
// keep their message out of the body in production mode, so no internals
// (paths, exception texts) leak to clients; the full message goes to the log.
#pragma once

#include "core/error.h"
#include "http/message.h"

namespace scribepod::http {

StatusCode status_for(ErrorCode code);

// `version`/`keep_alive` come from the request being answered.
Response error_response(const Error& error, unsigned version, bool keep_alive, bool production);

inline Response error_response(const Error& error, const Request& req, bool production) {
  return error_response(error, req.version(), req.keep_alive(), production);
}

}  // namespace scribepod::http
