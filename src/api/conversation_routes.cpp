#include "api/conversation_routes.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "api/conversation_request.h"
#include "api/transcribe_routes.h"
#include "core/time_format.h"
#include "http/blocking.h"

namespace scribepod::api {

using http::Context;
using http::Request;
using http::Response;
using Awaitable = boost::asio::awaitable<Result<Response>>;

namespace {

nlohmann::json thoughts_object(const mind::Thoughts& t) {
  return {{"intent", t.intent},        {"person_is", t.person_is}, {"extra_state", t.extra_state},
          {"thoughts", t.thoughts},    {"response", t.response},   {"engine", t.engine},
          {"latency_ms", t.latency_ms}};
}

std::string_view header_value(const Request& req, std::string_view name) {
  const auto it = req.find(name);
  return it == req.end() ? std::string_view{} : std::string_view(it->value());
}

Response with_session(Response res, const std::string& id) {
  res.set("X-Session-Id", id);
  return res;
}

std::string iso_time(std::chrono::system_clock::time_point t) { return utc_timestamp(t); }

}  // namespace

std::string thoughts_json(const mind::Thoughts& t) { return thoughts_object(t).dump(); }

void add_conversation_routes(http::Router& router, ConversationDeps deps) {
  auto d = std::make_shared<ConversationDeps>(std::move(deps));

  router.add(http::Verb::post, "/conversation", [d](Request& req, Context& ctx) -> Awaitable {
    auto chunk = parse_chunk(http::query_param(req.target(), "chunk").value_or(""));
    if (!chunk) co_return std::move(chunk).take_error();
    auto session_id = parse_session_header(header_value(req, "X-Session-Id"));
    if (!session_id) co_return std::move(session_id).take_error();
    auto request_key = parse_idempotency_key(header_value(req, "Idempotency-Key"));
    if (!request_key) co_return std::move(request_key).take_error();
    auto parts = parse_upload(req, d->max_file_bytes);
    if (!parts) co_return std::move(parts).take_error();
    const auto* audio = http::find_part(*parts, "audio_data");
    if (audio == nullptr) co_return Error::bad_request("missing multipart field \"audio_data\"");
    if (audio->data.empty()) co_return Error::bad_request("the audio_data file is empty");

    const std::string id = *session_id;
    const int n = *chunk;
    // A key that this session used for an earlier utterance is refused
    // before the transcription. Only a request that names its session can
    // carry one, so only such a request opens its session this early (and
    // keeps it for the turn).
    std::optional<live::Conversations::Registry::Lookup> opened;
    if (!request_key->empty() && !id.empty()) {
      auto checked = co_await http::run_blocking(
          *d->mind_pool, [&]() -> Result<live::Conversations::Registry::Lookup> {
            auto lookup = d->conversations->open(id);
            if (!lookup) return lookup;
            if (auto s = d->conversations->check_request_key(lookup->session, *request_key); !s) {
              return std::move(s).take_error();
            }
            return lookup;
          });
      if (!checked) co_return std::move(checked).take_error();
      opened = std::move(checked).value();
    }

    asr::TranscribeOptions opts;
    opts.language = d->default_language;
    const std::string_view data = audio->data;
    const std::string type = audio->content_type;
    auto transcript = co_await http::run_blocking(
        *d->asr_pool, [&] { return d->transcriber->transcribe_bytes(data, type, opts); });
    if (!transcript) co_return std::move(transcript).take_error();

    auto turn = co_await http::run_blocking(*d->mind_pool, [&]() -> Result<live::Turn> {
      if (!opened) {
        auto lookup = d->conversations->open(id);
        if (!lookup) return std::move(lookup).take_error();
        opened = std::move(lookup).value();
      }
      live::UtteranceTiming timing;
      timing.decode_ms = transcript->decode_ms;
      timing.end_ms = static_cast<int64_t>(transcript->audio_s * 1000.0);
      return d->conversations->hear(opened->session, transcript->text, n, timing, *request_key);
    });
    if (!turn) co_return std::move(turn).take_error();
    ctx.session_id = turn->session_id;
    nlohmann::json body = {{"sessionId", turn->session_id},
                           {"transcriptionResponse", turn->text},
                           {"conversationState", turn->conversation_state}};
    if (turn->thoughts) body["thoughts"] = thoughts_object(*turn->thoughts);
    co_return with_session(http::json_response(req, http::StatusCode::ok, body.dump()),
                           turn->session_id);
  });

  router.add(http::Verb::post, "/generate_thots", [d](Request& req, Context&) -> Awaitable {
    if (auto type = check_json_content_type(header_value(req, "Content-Type")); !type) {
      co_return std::move(type).take_error();
    }
    auto lines = parse_generate_thots(req.body());
    if (!lines) co_return std::move(lines).take_error();
    auto thoughts = co_await http::run_blocking(
        *d->mind_pool, [&] { return d->conversations->think(std::move(*lines)); });
    if (!thoughts) co_return std::move(thoughts).take_error();
    co_return http::json_response(req, http::StatusCode::ok, thoughts_json(*thoughts));
  });

  router.add(http::Verb::get, "/silence_detect", [d](Request& req, Context& ctx) -> Awaitable {
    auto session_id = parse_session_header(header_value(req, "X-Session-Id"));
    if (!session_id) co_return std::move(session_id).take_error();
    const std::string id = *session_id;
    auto lookup =
        co_await http::run_blocking(*d->mind_pool, [&] { return d->conversations->open(id); });
    if (!lookup) co_return std::move(lookup).take_error();
    const auto& session = lookup->session;
    const std::string response = d->conversations->end_turn(session);
    ctx.session_id = session->id;
    if (wants_json(req)) {
      nlohmann::json body;
      {
        std::lock_guard lock(session->mu);
        body = {{"sessionId", session->id},
                {"response", response},
                {"conversationState", session->state.conversation_state_json()},
                {"stateType", mind::state_type_name(session->state.state_type())}};
      }
      co_return with_session(http::json_response(req, http::StatusCode::ok, body.dump()),
                             session->id);
    }
    co_return with_session(
        http::make_response(req, http::StatusCode::ok, response, "text/plain; charset=utf-8"),
        session->id);
  });

  http::RouteOptions admin;
  admin.admin_only = true;
  router.add(
      http::Verb::get, "/sessions/stats",
      [d](Request& req, Context&) -> Awaitable {
        const auto list = d->conversations->registry().summaries();
        nlohmann::json sessions = nlohmann::json::array();
        for (const auto& s : list) {
          sessions.push_back({{"sessionId", s.id},
                              {"conversationLength", s.length},
                              {"lastActivity", iso_time(s.last_activity)},
                              {"createdAt", iso_time(s.created_at)}});
        }
        const auto& o = d->conversations->registry().options();
        nlohmann::json body = {{"activeSessions", list.size()},
                               {"maxSessions", o.max_sessions},
                               {"sessionTimeoutMs", o.timeout.count()},
                               {"sessions", std::move(sessions)}};
        co_return http::json_response(req, http::StatusCode::ok, body.dump());
      },
      admin);

  router.add(http::Verb::get, "/v1/sessions/{id}", [d](Request& req, Context& ctx) -> Awaitable {
    auto id = parse_session_header(ctx.param("id"));
    if (!id || id->empty()) co_return Error::bad_request("the path must name a session id");
    const std::string sid = *id;
    auto history =
        co_await http::run_blocking(*d->mind_pool, [&] { return d->conversations->history(sid); });
    if (!history) co_return std::move(history).take_error();
    if (!history->has_value()) co_return Error::not_found("no such session");
    const store::SessionHistory& h = **history;
    ctx.session_id = sid;
    nlohmann::json utterances = nlohmann::json::array();
    for (const auto& u : h.utterances) {
      utterances.push_back({{"seq", u.seq},
                            {"text", u.text},
                            {"start_ms", u.start_ms},
                            {"end_ms", u.end_ms},
                            {"decode_ms", u.decode_ms},
                            {"created_at", iso_time(u.created_at)}});
    }
    nlohmann::json thoughts = nlohmann::json::array();
    for (const auto& t : h.thoughts) {
      thoughts.push_back({{"utterance_seq", t.utterance_seq},
                          {"intent", t.intent},
                          {"person_is", t.person_is},
                          {"extra_state", t.extra_state},
                          {"thoughts", t.thoughts},
                          {"response", t.response},
                          {"engine", t.engine},
                          {"latency_ms", t.latency_ms},
                          {"created_at", iso_time(t.created_at)}});
    }
    nlohmann::json body = {{"sessionId", h.session.id},
                           {"createdAt", iso_time(h.session.created_at)},
                           {"lastActivity", iso_time(h.session.last_activity)},
                           {"utterances", std::move(utterances)},
                           {"thoughts", std::move(thoughts)}};
    co_return with_session(http::json_response(req, http::StatusCode::ok, body.dump()), sid);
  });
}

}  // namespace scribepod::api
