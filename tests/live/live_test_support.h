// Test support for the live pipeline: real engines (PocketSphinx with
// Debian's model, heuristic thoughts, a temporary SQLite store), an event
// collector standing in for the WebSocket transport, and helpers that stream
// PCM16 frames the way a client does.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "asr/pocketsphinx/pocketsphinx_recognizer.h"
#include "live/conversations.h"
#include "live/stream_pipeline.h"
#include "mind/engines.h"
#include "speech_samples.h"
#include "store/open_store.h"

namespace scribepod::live::testing {

using nlohmann::json;
using namespace std::chrono_literals;
namespace samples = asr::samples;

// What the transport would have sent: events in order, and the close code.
class EventCollector {
 public:
  EventSink sink() {
    return [this](Event e) {
      std::lock_guard lock(mu_);
      if (closed_) ADD_FAILURE() << "an event after the close: " << e.json;
      if (!e.json.empty()) {
        auto j = json::parse(e.json);
        EXPECT_EQ(e.droppable, j["type"] == "partial") << e.json;
        events_.push_back(std::move(j));
      }
      if (e.close_code != 0) {
        closed_ = true;
        close_code_ = e.close_code;
      }
      cv_.notify_all();
    };
  }

  // Waits until `pred(events)` holds; false on timeout.
  template <typename Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 60s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(events_); });
  }
  bool wait_closed(std::chrono::milliseconds timeout = 60s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return closed_; });
  }
  bool wait_count(const std::string& type, std::size_t n, std::chrono::milliseconds t = 60s) {
    return wait([&](const std::vector<json>& ev) { return count(ev, type) >= n; }, t);
  }

  std::vector<json> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  int close_code() {
    std::lock_guard lock(mu_);
    return close_code_;
  }

  static std::size_t count(const std::vector<json>& ev, const std::string& type) {
    std::size_t n = 0;
    for (const auto& e : ev) n += e["type"] == type ? 1U : 0U;
    return n;
  }
  static std::vector<json> of_type(const std::vector<json>& ev, const std::string& type) {
    std::vector<json> out;
    for (const auto& e : ev) {
      if (e["type"] == type) out.push_back(e);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<json> events_;
  bool closed_ = false;
  int close_code_ = 0;
};

inline std::vector<uint8_t> to_pcm16(std::span<const float> samples) {
  std::vector<uint8_t> out;
  out.reserve(samples.size() * 2);
  for (float f : samples) {
    const float c = std::max(-1.0F, std::min(1.0F, f));
    const auto v = static_cast<int16_t>(std::lround(c * 32767.0F));
    const auto u = static_cast<uint16_t>(v);
    out.push_back(static_cast<uint8_t>(u & 0xFFU));
    out.push_back(static_cast<uint8_t>(u >> 8U));
  }
  return out;
}

// Sends 16 kHz audio as PCM16 frames of `frame_ms`, sleeping `pause` after
// each (a real-time client sleeps frame_ms).
inline void stream_pcm(StreamSession& s, const std::vector<float>& audio,
                       std::chrono::milliseconds pause = 30ms, int frame_ms = 100) {
  const std::size_t step = static_cast<std::size_t>(frame_ms) * 16;
  for (std::size_t i = 0; i < audio.size(); i += step) {
    const std::size_t n = std::min(step, audio.size() - i);
    auto bytes = to_pcm16(std::span<const float>(audio).subspan(i, n));
    s.on_audio(bytes);
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
  }
}

inline std::vector<float> silence(double seconds) {
  return std::vector<float>(static_cast<std::size_t>(seconds * 16000), 0.0F);
}
inline void append(std::vector<float>& a, const std::vector<float>& b) {
  a.insert(a.end(), b.begin(), b.end());
}

inline const std::string kStart = R"({"type":"start","sample_rate":16000,"encoding":"pcm16"})";

// One set of engines and pools per test binary (a PocketSphinx decoder
// costs ~95 MB and a second to build).
struct Engines {
  std::shared_ptr<asr::Recognizer> recognizer;
  std::shared_ptr<mind::ThoughtsEngine> thoughts;
  std::unique_ptr<samples::TempDir> dir;
  std::shared_ptr<store::HistoryStore> store;
  std::shared_ptr<Conversations> conversations;

  static Engines& get() {
    static Engines e = make();
    return e;
  }

 private:
  static Engines make() {
    Engines e;
    auto p = asr::pocketsphinx_default_params();
    p.decoders = 2;
    auto r = asr::make_pocketsphinx_recognizer(p);
    if (!r) throw std::runtime_error("pocketsphinx: " + r.error().message);
    e.recognizer = std::move(r).value();
    auto t = mind::make_heuristic_thoughts();
    if (!t) throw std::runtime_error("heuristic thoughts: " + t.error().message);
    e.thoughts = std::move(t).value();
    e.dir = std::make_unique<samples::TempDir>();
    auto sp = store::default_store_params();
    sp.sqlite_path = (e.dir->path() / "live.db").string();
    auto st = store::open_store(sp);
    if (!st) throw std::runtime_error("store: " + st.error().message);
    e.store = std::move(st).value();
    e.conversations = std::make_shared<Conversations>(e.thoughts, e.store, ConversationOptions{});
    return e;
  }
};

// Pools, registry and configuration for the sessions of one test.
struct Rig {
  boost::asio::thread_pool compute{2};
  boost::asio::thread_pool mind{1};
  ResumeRegistry resume;
  // Tests stream faster than real time on a shared machine: the rate and
  // backlog limits are lifted here and tested on their own.
  config::LiveConfig live = [] {
    config::LiveConfig l;
    l.max_realtime_factor = 100;
    l.max_backlog = 60'000ms;
    return l;
  }();
  std::shared_ptr<asr::Recognizer> recognizer = Engines::get().recognizer;
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };

  // A session the rig keeps until the end of the test (a transport would
  // keep it until finished()).
  StreamSession* open(EventCollector& c) {
    StreamDeps deps{recognizer, Engines::get().conversations, compute, mind, live, "", resume, now};
    auto s = make_stream_session(deps, c.sink());
    EXPECT_TRUE(s.ok());
    sessions.push_back(std::move(s).value());
    return sessions.back().get();
  }

  // The pools must outlive every session's work: sessions post between the
  // two pools, so a pool joined while a session still runs would drop work.
  ~Rig() {
    for (auto& s : sessions) {
      if (!s->finished()) s->on_disconnect();
      const auto until = std::chrono::steady_clock::now() + 60s;
      while (!s->finished() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(5ms);
      }
      EXPECT_TRUE(s->finished()) << "a session did not finish";
    }
    compute.join();
    mind.join();
  }

  std::vector<std::unique_ptr<StreamSession>> sessions;
};

// Waits until the session says all its work is done.
inline bool wait_finished(const StreamSession& s, std::chrono::milliseconds timeout = 60s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!s.finished()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// The protocol's guarantees, checked on any event sequence: seq gap-free;
// utterance ids 1, 2, ... (from `first_id`); per utterance partials with
// increasing revisions, then exactly one final, then at most one thoughts,
// then one stats; no event of a later utterance before an earlier final.
inline void check_guarantees(const std::vector<json>& ev, int64_t first_id = 1) {
  std::map<int64_t, int> last_revision;
  std::map<int64_t, int64_t> last_partial_end;
  std::map<int64_t, int> finals;
  std::map<int64_t, int> thoughts;
  std::map<int64_t, int> stats;
  int64_t max_final = first_id - 1;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    const json& e = ev[i];
    EXPECT_EQ(e["seq"], static_cast<int64_t>(i) + 1) << e.dump();
    if (!e.contains("utterance_id")) continue;
    const int64_t id = e["utterance_id"];
    if (id < first_id) continue;  // replayed on resume
    const std::string type = e["type"];
    if (type == "partial" || type == "final") {
      EXPECT_LE(id, max_final + 1) << "utterance " << id << " before final " << max_final + 1;
    }
    if (type == "partial") {
      EXPECT_EQ(finals[id], 0) << "partial after its final: " << e.dump();
      EXPECT_GT(int(e["revision"]), last_revision[id]) << e.dump();
      last_revision[id] = e["revision"];
      // A later revision covers at least the audio an earlier one did.
      EXPECT_LT(int64_t(e["start_ms"]), int64_t(e["end_ms"])) << e.dump();
      EXPECT_GE(int64_t(e["end_ms"]), last_partial_end[id]) << e.dump();
      last_partial_end[id] = e["end_ms"];
    } else if (type == "final") {
      EXPECT_EQ(++finals[id], 1) << "two finals for " << id;
      EXPECT_EQ(id, max_final + 1) << "finals out of order";
      max_final = std::max(max_final, id);
      EXPECT_FALSE(std::string(e["text"]).empty());
      EXPECT_LE(int64_t(e["start_ms"]), int64_t(e["end_ms"]));
    } else if (type == "thoughts") {
      EXPECT_EQ(finals[id], 1) << "thoughts before their final";
      EXPECT_EQ(++thoughts[id], 1);
      EXPECT_EQ(stats[id], 0);
    } else if (type == "stats") {
      EXPECT_EQ(finals[id], 1);
      EXPECT_EQ(++stats[id], 1);
    }
  }
}

}  // namespace scribepod::live::testing
