// Shared by the whisper tests: model files generated at test time by
// tools/make_tiny_whisper_model (random weights, the real format), recorded
// speech to feed them, and small helpers.
//
// A generated model says the same planted words in every 30 s window
// (" tok1001 tok1004 ...", or what --say asked for), so the tests assert
// mechanics (it loads, runs, respects limits, times are ordered and inside
// the audio, concurrency and errors behave), not words.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "asr/whisper/whisper_recognizer.h"

namespace scribepod::asr::whisper_test {

namespace fs = std::filesystem;

inline constexpr const char* kGoForward = "/usr/share/pocketsphinx/test/data/goforward.raw";

// One scratch directory per test process, removed at exit.
inline const fs::path& scratch_dir() {
  struct Dir {
    fs::path path =
        fs::temp_directory_path() / ("scribepod_whisper_test_" + std::to_string(::getpid()));
    Dir() { fs::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

// The model generator: its build path, compiled in by tests/asr/CMakeLists.txt
// (or taken from the environment variable of the same name).
inline std::string model_tool() {
  if (const char* env = std::getenv("SCRIBEPOD_TINY_MODEL_TOOL"); env != nullptr && *env != 0) {
    return env;
  }
#ifdef SCRIBEPOD_TINY_MODEL_TOOL
  return SCRIBEPOD_TINY_MODEL_TOOL;
#else
  return "";
#endif
}

// Generates (once per process) a model with the given tool arguments.
inline std::string model(const std::string& args) {
  static std::mutex mu;
  static std::map<std::string, std::string> made;
  const std::lock_guard lock(mu);
  if (const auto it = made.find(args); it != made.end()) return it->second;
  const std::string tool = model_tool();
  EXPECT_FALSE(tool.empty()) << "build tools/make_tiny_whisper_model and define "
                                "SCRIBEPOD_TINY_MODEL_TOOL (tests/asr/CMakeLists.txt)";
  const std::string path =
      (scratch_dir() / ("model" + std::to_string(made.size()) + ".bin")).string();
  const std::string cmd = tool + " " + args + " --out '" + path + "' > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  made[args] = path;
  return path;
}
inline std::string micro_en() { return model("--shape micro"); }
inline std::string micro_multilingual() { return model("--shape micro --multilingual"); }

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
inline std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = (scratch_dir() / name).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

inline audio::PcmAudio pcm16(const std::string& bytes) {
  audio::PcmAudio a;
  a.samples.resize(bytes.size() / 2);
  for (std::size_t i = 0; i < a.samples.size(); ++i) {
    std::int16_t v = 0;
    std::memcpy(&v, bytes.data() + 2 * i, 2);
    a.samples[i] = static_cast<float>(v) / 32768.0F;
  }
  return a;
}

// "go forward ten meters", 2.8 s of recorded speech (pocketsphinx-testdata).
inline const audio::PcmAudio& go_forward() {
  static const audio::PcmAudio a = pcm16(read_bytes(kGoForward));
  return a;
}

// The 11 s JFK sample from the whisper npm package in the download cache;
// empty when the cache has no such package.
inline const audio::PcmAudio& jfk() {
  static const audio::PcmAudio a = [] {
    const char* home = std::getenv("HOME");
    const fs::path downloads =
        fs::path(home != nullptr ? home : "/root") / ".cache/scribepod/downloads";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(downloads, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.starts_with("nodejs-whisper-") && name.ends_with(".tgz")) {
        const std::string member = "package/cpp/whisper.cpp/bindings/go/samples/jfk.wav";
        const std::string cmd = "tar -xzf '" + entry.path().string() + "' -C '" +
                                scratch_dir().string() + "' " + member;
        if (std::system(cmd.c_str()) != 0) break;
        const std::string wav = read_bytes((scratch_dir() / member).string());
        if (wav.size() > 44) return pcm16(wav.substr(44));  // 16 kHz mono PCM16 after the header
      }
    }
    return audio::PcmAudio{};
  }();
  return a;
}

inline audio::PcmAudio repeated(const audio::PcmAudio& a, int times) {
  audio::PcmAudio out;
  for (int i = 0; i < times; ++i)
    out.samples.insert(out.samples.end(), a.samples.begin(), a.samples.end());
  return out;
}

inline audio::PcmAudio noise(double seconds, float rms) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0F, rms);
  audio::PcmAudio a;
  a.samples.resize(static_cast<std::size_t>(seconds * audio::kSampleRate));
  for (float& s : a.samples) s = dist(rng);
  return a;
}

// One thread per decode: a micro model's graphs are tiny, and ggml's OpenMP
// workers spin-wait between them, which on a busy 2-core machine costs ten
// times the work itself. TranscribesSpeech keeps the default of two.
inline WhisperParams params_for(const std::string& path) {
  WhisperParams p = WhisperParams::default_params();
  p.model_path = path;
  p.threads = 1;
  return p;
}

inline std::unique_ptr<Recognizer> make(const WhisperParams& p) {
  Result<std::unique_ptr<Recognizer>> r = make_whisper_recognizer(p);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : nullptr;
}

inline Transcript transcribe(Recognizer& r, const audio::PcmAudio& a, TranscribeOptions o = {}) {
  Result<Transcript> t = r.transcribe(a, o);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? std::move(t).value() : Transcript{};
}

inline std::size_t word_count(const Segment& s) {
  std::size_t n = 0;
  bool in_word = false;
  for (const char c : s.text) {
    const bool space = c == ' ';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

}  // namespace scribepod::asr::whisper_test
