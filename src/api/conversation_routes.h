// The original reason server's REST flow, same paths and payloads, now with
// one conversation per session:
//
//   POST /conversation?chunk=N   multipart audio_data, optional X-Session-Id
//        -> {sessionId, transcriptionResponse, conversationState}
//   POST /generate_thots         {"conversation_speech": [...]} -> the five fields
//   GET  /silence_detect         ends the turn; the latest response
//                                (text/plain, or JSON with Accept: application/json)
//   GET  /sessions/stats         live sessions (admin key)
//   GET  /v1/sessions/{id}       the stored history of one session
//
// Every answer about a session carries X-Session-Id. A malformed id is 400;
// an unknown one starts a new session under a new id.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "asr/transcriber.h"
#include "http/router.h"
#include "live/conversations.h"

namespace scribepod::api {

struct ConversationDeps {
  std::shared_ptr<live::Conversations> conversations;
  std::shared_ptr<const asr::Transcriber> transcriber;
  boost::asio::thread_pool* asr_pool = nullptr;   // recognition
  boost::asio::thread_pool* mind_pool = nullptr;  // thoughts and the store
  std::string default_language;
  std::size_t max_file_bytes = 10 * 1024 * 1024;
};

void add_conversation_routes(http::Router& router, ConversationDeps deps);

// A Thoughts result as the /generate_thots JSON object.
std::string thoughts_json(const mind::Thoughts& t);

}  // namespace scribepod::api
