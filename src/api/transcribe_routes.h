// POST /transcribe (the original whisper server's contract) and
// POST /v1/audio/transcriptions (OpenAI-compatible, so existing SDKs work).
//
// Both take multipart uploads, decode the audio in memory, and recognise it
// on the compute pool. /transcribe answers text/plain, or verbose JSON with
// segments when the client sends Accept: application/json. The OpenAI route
// takes file, model, language, prompt, temperature, response_format
// (json, text, verbose_json, srt, vtt) and timestamp_granularities[].
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "asr/transcriber.h"
#include "http/multipart.h"
#include "http/router.h"

namespace scribepod::api {

struct TranscribeDeps {
  std::shared_ptr<const asr::Transcriber> transcriber;
  boost::asio::thread_pool* pool = nullptr;  // where recognition runs
  std::string default_language;              // when the request names none
  std::size_t max_file_bytes = 10 * 1024 * 1024;
};

void add_transcribe_routes(http::Router& router, TranscribeDeps deps);

// Parses a multipart request body; errors are the client's (400/413/415).
Result<std::vector<http::MultipartPart>> parse_upload(const http::Request& req,
                                                      std::size_t max_file_bytes);

// True when the client's Accept header asks for application/json (the
// original endpoints answer text/plain otherwise).
bool wants_json(const http::Request& req);

}  // namespace scribepod::api
