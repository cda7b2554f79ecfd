// Helpers shared by the store tests: a temp directory, record builders and
// a clock rounded to the milliseconds the stores keep.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "store/history_store.h"

namespace scribepod::store::test {

inline TimePoint ms_time(int64_t ms) {
  return TimePoint{std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds{ms})};
}

// 2026-01-01T00:00:00Z plus an offset, so tests never depend on "now".
inline TimePoint at(int64_t offset_ms) { return ms_time(1767225600000 + offset_ms); }

inline UtteranceRecord utterance(int64_t seq, std::string text, int64_t t = 0) {
  UtteranceRecord u;
  u.seq = seq;
  u.text = std::move(text);
  u.start_ms = seq * 1000;
  u.end_ms = seq * 1000 + 750;
  u.decode_ms = 12.5 + static_cast<double>(seq);
  u.created_at = at(t + seq);
  return u;
}

inline ThoughtsRecord thoughts(int64_t seq, std::string response, int64_t t = 0) {
  ThoughtsRecord r;
  r.utterance_seq = seq;
  r.intent = "question";
  r.person_is = "curious";
  r.extra_state = "likes trains";
  r.thoughts = "they asked about trains";
  r.response = std::move(response);
  r.engine = "heuristic";
  r.latency_ms = 3.25;
  r.created_at = at(t + 100 + seq);
  return r;
}

class TempDir {
 public:
  TempDir() {
    std::string templ =
        (std::filesystem::temp_directory_path() / "scribepod-store-XXXXXX").string();
    if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace scribepod::store::test
