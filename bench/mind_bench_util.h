// Shared by the mind benchmarks (mind_one_vs_five, mind_latency): a
// realistic spoken conversation to grow turn by turn, random-weight GGUF
// models made by tools/make_tiny_gguf, a pass-through Generator that records
// every generation, clocks, medians and percentiles.
// Benchmarks, not tests: a setup failure prints a message and exits 2.
#pragma once

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "llm/generator.h"
#include "llm/llama/llama_generator.h"

namespace scribepod::bench {

inline void require(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(2);
}

template <typename T>
T take(Result<T> r, const std::string& what) {
  require(r.ok(), what + ": " + (r.ok() ? std::string() : r.error().message));
  return std::move(r).value();
}

inline int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != 0 ? std::atoi(v) : fallback;
}

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU time of the whole process (user + system): llama.cpp computes on its
// own threads, so this thread's clock would miss it.
inline double process_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

// Nearest-rank percentile (p in 0..100): with few samples p95 is the maximum,
// which is the honest reading of a small sample.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(v.size()));
  const auto i = static_cast<std::size_t>(std::max(1.0, rank)) - 1;
  return v[std::min(i, v.size() - 1)];
}

// One person talking to the agent, in the original's "person: ..." form. The
// benchmarks take the first n lines (a conversation that grows turn by turn);
// `offset` rotates the start so concurrent conversations differ.
inline std::vector<std::string> conversation(std::size_t n, std::size_t offset = 0) {
  static constexpr const char* kLines[] = {
      "person: hi there, I just got home from work and I wanted to talk something through",
      "person: so I have been thinking about learning to play the piano again",
      "person: I took lessons as a kid but I stopped when I was about twelve",
      "person: do you think it is too late to start again at thirty five",
      "person: my hands feel stiff when I try the scales I still remember",
      "person: a friend of mine said I should just buy a cheap keyboard first",
      "person: but I am worried I will lose interest after a few weeks like last time",
      "person: what would be a good way to practice when I only have half an hour a day",
      "person: I really love the sound of old jazz records, that is what got me into it",
      "person: maybe I could learn a few simple standards instead of classical pieces",
      "person: how long does it usually take before you can play something real",
      "person: honestly I think I just want something that is mine, away from my job",
      "person: my job is mostly spreadsheets and meetings and it wears me out",
      "person: I tried painting last year but it never really clicked for me",
      "person: music feels different, I hum all day without noticing",
      "person: should I look for a teacher or try one of those apps",
      "person: teachers are expensive around here, about sixty dollars an hour",
      "person: the apps feel a bit like a game, which might actually keep me going",
      "person: okay I think I will try the app for a month and then decide",
      "person: thanks, this helped, I feel a lot more excited about it now",
  };
  constexpr std::size_t kCount = sizeof(kLines) / sizeof(kLines[0]);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.emplace_back(kLines[(offset + i) % kCount]);
  return out;
}

// A directory removed with everything in it when the benchmark ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mindbench-XXXXXX").string();
    require(mkdtemp(tmpl.data()) != nullptr, "cannot create a temp dir");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A llama-architecture GGUF with random weights written by tools/make_tiny_gguf
// (SCRIBEPOD_TINY_GGUF_TOOL overrides the built path). `shape` is extra
// arguments, e.g. "--embd 512 --layers 4 --heads 8 --head-kv 2 --ff 2048"; "" is the tool's tiny
// default.
inline std::string make_model(const TempDir& dir, const std::string& name,
                              const std::string& shape) {
  std::string tool = SCRIBEPOD_TINY_GGUF_TOOL;
  if (const char* env = std::getenv("SCRIBEPOD_TINY_GGUF_TOOL"); env != nullptr && *env != 0)
    tool = env;
  const std::string path = (dir.path() / name).string();
  const std::string cmd = tool + " --arch llama " + shape + " --out '" + path + "' > /dev/null";
  require(std::system(cmd.c_str()) == 0, "failed: " + cmd);
  return path;
}

// The real LlamaGenerator, with every generation it makes written down, so a
// benchmark can report the calls LlmThoughts makes (its first attempt and a
// repair attempt separately) without changing them. cpu_s is the process's
// CPU time during the call: meaningful only when calls do not overlap.
class RecordingGenerator final : public llm::Generator {
 public:
  struct Call {
    int prompt_tokens = 0;
    int completion_tokens = 0;
    int cached_prompt_tokens = 0;
    double latency_ms = 0;
    double cpu_s = 0;
    bool truncated = false;
    bool ok = false;
    std::string text;
  };

  explicit RecordingGenerator(std::shared_ptr<llm::Generator> inner) : inner_(std::move(inner)) {}

  std::string name() const override { return inner_->name(); }
  std::string describe() const override { return inner_->describe(); }
  Result<llm::Generation> generate(const llm::GenerateRequest& request) override {
    const double cpu0 = process_cpu_s();
    Result<llm::Generation> g = inner_->generate(request);
    Call call;
    call.cpu_s = process_cpu_s() - cpu0;
    call.ok = g.ok();
    if (g.ok()) {
      call.prompt_tokens = g->prompt_tokens;
      call.completion_tokens = g->completion_tokens;
      call.cached_prompt_tokens = g->cached_prompt_tokens;
      call.latency_ms = g->latency_ms;
      call.truncated = g->truncated;
      call.text = g->text;
    }
    const std::lock_guard<std::mutex> lock(mutex_);
    calls_.push_back(std::move(call));
    return g;
  }

  // The calls made since the last take_calls(), oldest first.
  std::vector<Call> take_calls() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(calls_, {});
  }

 private:
  std::shared_ptr<llm::Generator> inner_;
  std::mutex mutex_;
  std::vector<Call> calls_;
};

inline std::shared_ptr<llm::LlamaGenerator> load_llama(const std::string& path, int threads,
                                                       int sequences, int n_ctx,
                                                       bool prompt_cache = true) {
  auto params = llm::default_llama_params();
  params.prompt_cache = prompt_cache;
  params.model_path = path;
  params.n_threads = threads;
  params.max_sequences = sequences;
  params.n_ctx = n_ctx;
  // 16 conversations on 2 contexts queue for a long time by design: the
  // benchmark measures that wait, it must not turn it into kUnavailable.
  params.queue_timeout = std::chrono::minutes(10);
  return take(llm::LlamaGenerator::load(params), "load " + path);
}

}  // namespace scribepod::bench
