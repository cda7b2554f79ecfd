#include "live/conversations.h"

#include <fmt/format.h>

#include <algorithm>

#include "telemetry/log.h"

namespace scribepod::live {
namespace {

std::vector<std::string> last_lines(std::vector<std::string> lines, std::size_t keep) {
  if (lines.size() > keep) {
    lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(keep));
  }
  return lines;
}

store::ThoughtsRecord to_record(int64_t seq, const mind::Thoughts& t,
                                std::chrono::system_clock::time_point now) {
  store::ThoughtsRecord r;
  r.utterance_seq = seq;
  r.intent = t.intent;
  r.person_is = t.person_is;
  r.extra_state = t.extra_state;
  r.thoughts = t.thoughts;
  r.response = t.response;
  r.engine = t.engine;
  r.latency_ms = t.latency_ms;
  r.created_at = now;
  return r;
}

}  // namespace

Conversations::Conversations(std::shared_ptr<mind::ThoughtsEngine> engine,
                             std::shared_ptr<store::HistoryStore> store,
                             ConversationOptions options)
    : engine_(std::move(engine)),
      store_(std::move(store)),
      options_(options),
      request_keys_(options.max_request_keys) {
  registry_ = std::make_unique<Registry>(
      options_.registry, [] { return mind::MindState(); },
      [](const mind::MindState& s) { return s.utterances().size(); },
      [this](const std::string& id) { return restore(id); });
}

std::optional<mind::MindState> Conversations::restore(const std::string& id) const {
  auto loaded = store_->load(id);
  if (!loaded) {
    // The store is down: the id cannot be checked, so it is treated as
    // unknown (a new session) rather than failing the request.
    log::warn("could not restore session from the store",
              {{"session_id", id}, {"error", loaded.error().message}});
    return std::nullopt;
  }
  if (!loaded->has_value()) return std::nullopt;
  const store::SessionHistory& h = **loaded;
  mind::MindState state(h.session.created_at);
  std::size_t next_thought = 0;
  for (const store::UtteranceRecord& u : h.utterances) {
    (void)state.update_conversation(u.text, 1, u.created_at);
    while (next_thought < h.thoughts.size() && h.thoughts[next_thought].utterance_seq <= u.seq) {
      const store::ThoughtsRecord& r = h.thoughts[next_thought++];
      mind::Thoughts t{r.intent,     r.person_is, r.extra_state,
                       r.thoughts,   r.response,  r.engine,
                       r.latency_ms, 0,           0};
      state.update_thoughts(t, r.created_at);
    }
  }
  log::info("session restored from the store",
            {{"session_id", id}, {"utterances", h.utterances.size()}});
  return state;
}

Result<Conversations::Registry::Lookup> Conversations::open(const std::string& id) {
  auto lookup = registry_->find_or_create(id);
  if (!lookup) return lookup;
  if (lookup->created) {
    auto stored = store_->touch_session(lookup->session->id, std::chrono::system_clock::now());
    if (!stored) return std::move(stored).take_error();
  }
  return lookup;
}

std::string Conversations::RequestKeys::entry(const std::string& session_id, std::string_view key) {
  std::string e = session_id;
  e += '\n';  // in neither a session id nor a key
  e += key;
  return e;
}

std::optional<int64_t> Conversations::RequestKeys::find(const std::string& session_id,
                                                        std::string_view key) const {
  std::lock_guard lock(mu_);
  const auto it = seq_.find(entry(session_id, key));
  if (it == seq_.end()) return std::nullopt;
  return it->second;
}

void Conversations::RequestKeys::remember(const std::string& session_id, std::string_view key,
                                          int64_t seq) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mu_);
  auto e = entry(session_id, key);
  if (auto it = seq_.find(e); it != seq_.end()) {
    it->second = seq;
    return;
  }
  if (order_.size() >= capacity_) {
    seq_.erase(order_.front());
    order_.pop_front();
  }
  seq_.emplace(e, seq);
  order_.push_back(std::move(e));
}

Result<std::optional<int64_t>> Conversations::recorded_by(const std::string& id,
                                                          std::string_view request_key,
                                                          int64_t count) const {
  const auto seq = request_keys_.find(id, request_key);
  if (seq && *seq != count) {
    return Error::bad_request(
        fmt::format("this Idempotency-Key recorded utterance {} of the conversation, which "
                    "has {} now; a new request needs a new key",
                    *seq, count));
  }
  return seq;
}

Status Conversations::check_request_key(const Registry::Handle& session,
                                        std::string_view request_key) const {
  if (request_key.empty()) return {};
  std::lock_guard lock(session->mu);
  auto seq = recorded_by(session->id, request_key,
                         static_cast<int64_t>(session->state.utterances().size()));
  if (!seq) return std::move(seq).take_error();
  return {};
}

Result<Turn> Conversations::hear(const Registry::Handle& session, std::string text, int chunk,
                                 const UtteranceTiming& timing, std::string_view request_key,
                                 std::function<bool(std::string_view)> on_response) {
  if (chunk < 1) return Error::bad_request("chunk must be a positive integer");
  const auto now = std::chrono::system_clock::now();
  Turn turn;
  turn.session_id = session->id;
  std::vector<std::string> lines;
  {
    std::lock_guard lock(session->mu);
    mind::MindState& state = session->state;
    const auto count = static_cast<int64_t>(state.utterances().size());
    // A repeated request replaces what it recorded (the session lock makes
    // the check and the record one step for requests under the same key).
    if (!request_key.empty()) {
      auto seq = recorded_by(session->id, request_key, count);
      if (!seq) return std::move(seq).take_error();
      if (*seq) chunk = 2;
    }
    turn.utterance_seq = (chunk == 1 || count == 0) ? count + 1 : count;

    // The store first: an utterance the store refused is not acknowledged.
    store::UtteranceRecord record;
    record.seq = turn.utterance_seq;
    record.text = text;
    record.start_ms = timing.start_ms;
    record.end_ms = timing.end_ms;
    record.decode_ms = timing.decode_ms;
    record.created_at = now;
    if (auto s = store_->touch_session(session->id, now); !s) return std::move(s).take_error();
    if (auto s = store_->save_utterance(session->id, record); !s) {
      return std::move(s).take_error();
    }
    if (auto s = state.update_conversation(text, chunk, now); !s) return std::move(s).take_error();
    if (!request_key.empty()) request_keys_.remember(session->id, request_key, turn.utterance_seq);
    lines = last_lines(state.conversation_lines(), options_.max_history_lines);
    if (!lines.empty()) state.set_state_type(mind::StateType::kResponding, now);
    turn.text = std::move(text);
  }

  if (!lines.empty()) {
    mind::ThinkRequest request;
    request.conversation = std::move(lines);
    request.on_response = std::move(on_response);
    auto thoughts = engine_->think(request);
    std::lock_guard lock(session->mu);
    session->state.set_state_type(mind::StateType::kListening);
    if (!thoughts) return std::move(thoughts).take_error();
    session->state.update_thoughts(*thoughts);
    if (auto s = store_->save_thoughts(session->id, to_record(turn.utterance_seq, *thoughts,
                                                              std::chrono::system_clock::now()));
        !s) {
      // The thoughts were made and are in memory; losing them from the
      // history is logged, not fatal to the turn.
      log::error("could not store thoughts",
                 {{"session_id", session->id}, {"error", s.error().message}});
    }
    turn.thoughts = std::move(*thoughts);
  }
  std::lock_guard lock(session->mu);
  turn.conversation_state = session->state.conversation_state_json();
  return turn;
}

Result<mind::Thoughts> Conversations::think(std::vector<std::string> conversation_lines) {
  mind::ThinkRequest request;
  request.conversation = last_lines(std::move(conversation_lines), options_.max_history_lines);
  return engine_->think(request);
}

std::string Conversations::end_turn(const Registry::Handle& session) {
  std::lock_guard lock(session->mu);
  session->state.set_state_type(mind::StateType::kDone);
  return session->state.latest_response();
}

Result<std::optional<store::SessionHistory>> Conversations::history(const std::string& id) const {
  return store_->load(id);
}

}  // namespace scribepod::live
