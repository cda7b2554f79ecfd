// Shared by the speech benchmarks (asr_rtf, asr_stream_vs_original,
// asr_stream_policy): the real recorded speech set with its known words,
// clocks (wall and this thread's CPU time), resident memory, and medians.
// Benchmarks, not tests: a missing file prints a message and exits 2.
#pragma once

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "../tests/asr/speech_samples.h"
#include "asr/recognizer.h"
#include "audio/pcm.h"

namespace scribepod::bench {

// One recording of real speech with its reference words.
struct Utterance {
  std::string source;  // "goforward", "tidigits", "cards", "librivox", "jfk"
  std::string id;
  std::string reference;
  audio::PcmAudio pcm;
};

inline void require(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(2);
}

// The real set, in the order a session might hear it: goforward, tidigits,
// cards 001-005, LibriVox (5 sentences), JFK: 13 recordings, 50.6 s.
inline std::vector<Utterance> real_speech_set(const asr::samples::TempDir& dir) {
  namespace s = asr::samples;
  const auto& data = s::kPocketSphinxData;
  std::vector<Utterance> set;
  set.push_back({"goforward", "goforward", s::reference_of(data / "goforward.raw"),
                 s::read_raw(data / "goforward.raw")});
  set.push_back({"tidigits", "dhd.2934z", s::reference_of(data / "tidigits/dhd.2934z.raw"),
                 s::read_raw(data / "tidigits/dhd.2934z.raw")});
  for (const auto& [id, text] : s::transcriptions(data / "cards/cards.transcription"))
    set.push_back({"cards", id, text, s::read_wav(data / "cards" / (id + ".wav"))});
  for (const auto& [id, text] : s::transcriptions(data / "librivox/transcription"))
    set.push_back({"librivox", id, text, s::read_wav(data / "librivox" / (id + ".wav"))});
  set.push_back({"jfk", "jfk", s::kJfkText, s::jfk(dir)});
  for (const auto& u : set)
    require(!u.pcm.samples.empty(), "no audio for " + u.source + "/" + u.id +
                                        " (apt-get install pocketsphinx-testdata; "
                                        "scripts/build-engines for jfk.wav)");
  return set;
}

inline double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Resident set size from /proc/self/status (VmRSS, kB), in MB.
inline double rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

inline int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != 0 ? std::atoi(v) : fallback;
}

template <typename T>
T take(Result<T> r, const std::string& what) {
  require(r.ok(), what + ": " + (r.ok() ? std::string() : r.error().message));
  return std::move(r).value();
}

}  // namespace scribepod::bench
