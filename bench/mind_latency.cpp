// mind_latency: thoughts latency under concurrent conversations.
//
// C conversations (1, 4, 16) run at once, each on its own thread, each making
// K turns: turn k asks a ThoughtsEngine to think about the conversation's
// first k+1 lines (a conversation that grows, as a live session's does; each
// thread starts at a different line so no two prompts are equal). Latency is
// the wall time of think() as the caller sees it, queueing included; p50 and
// p95 are nearest-rank over all C x K calls; throughput is calls / wall time
// of the whole phase. For the heuristic engine, which computes on the calling
// thread, the thread's CPU time per call is shown too: on a shared, loaded
// machine it separates the engine's cost from waiting for a core.
//
// Engines:
//   heuristic  HeuristicThoughts (no model), MIND_LATENCY_TURNS turns (20);
//   llama      LlmThoughts (production defaults: max_tokens 400, one repair
//              attempt) over LlamaGenerator with 2 contexts (mind concurrency
//              2; the pool queues the rest) of MIND_LATENCY_THREADS threads
//              each (1: 2 contexts x 1 thread = the machine's 2 cores), on
//              the tiny llama model of tools/make_tiny_gguf (64 wide, 2
//              layers, random weights), MIND_LATENCY_LLM_TURNS turns (2).
// Random weights rarely close the JSON object, so a llama think() usually
// spends its 400 tokens, is repaired once (up to another 400) and fails with
// kUpstreamFailed: the latencies are close to the worst case, two full
// generations, and the table says how many calls succeeded.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mind/engines.h"
#include "mind/prompt_templates.h"
#include "mind_bench_util.h"

namespace scribepod::bench {
namespace {

struct Phase {
  std::vector<double> latency_ms;
  std::vector<double> cpu_ms;  // the calling thread's CPU time per call
  int ok = 0;
  int failed = 0;
  std::map<std::string, int> errors;  // failures by error code
  double wall_s = 0;
};

Phase run_phase(mind::ThoughtsEngine& engine, int conversations, int turns) {
  std::vector<Phase> per_thread(static_cast<std::size_t>(conversations));
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  for (int c = 0; c < conversations; ++c) {
    threads.emplace_back([&, c] {
      Phase& mine = per_thread[static_cast<std::size_t>(c)];
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      const auto offset = static_cast<std::size_t>(c) * 3;
      for (int k = 0; k < turns; ++k) {
        mind::ThinkRequest req{conversation(static_cast<std::size_t>(k) + 1, offset), {}};
        const double cpu0 = thread_cpu_s();
        const auto t = Clock::now();
        Result<mind::Thoughts> r = engine.think(req);
        mine.latency_ms.push_back(seconds_since(t) * 1000.0);
        mine.cpu_ms.push_back((thread_cpu_s() - cpu0) * 1000.0);
        (r.ok() ? mine.ok : mine.failed) += 1;
        if (!r.ok()) mine.errors[std::string(error_code_name(r.error().code))] += 1;
      }
    });
  }
  while (ready.load() < conversations) std::this_thread::yield();
  const auto t0 = Clock::now();
  go.store(true);
  for (auto& t : threads) t.join();
  Phase all;
  all.wall_s = seconds_since(t0);
  for (const auto& p : per_thread) {
    all.latency_ms.insert(all.latency_ms.end(), p.latency_ms.begin(), p.latency_ms.end());
    all.cpu_ms.insert(all.cpu_ms.end(), p.cpu_ms.begin(), p.cpu_ms.end());
    all.ok += p.ok;
    all.failed += p.failed;
    for (const auto& [code, n] : p.errors) all.errors[code] += n;
  }
  return all;
}

// `recorder` (may be null) is the Generator under the engine: its calls give
// the generations and tokens per second.
void table(const char* engine, mind::ThoughtsEngine& thoughts, int turns,
           RecordingGenerator* recorder) {
  const bool llm = recorder != nullptr;
  std::printf(
      "| engine    | conversations | turns each | calls | ok / failed | p50 ms    | "
      "p95 ms    | thoughts/s |%s\n",
      llm ? " generations/s | tokens/s |" : " CPU ms p50 | CPU ms p95 |");
  std::printf(
      "|-----------|---------------|------------|-------|-------------|-----------|"
      "-----------|------------|%s\n",
      llm ? "---------------|----------|" : "------------|------------|");
  std::string failures;
  for (int conversations : {1, 4, 16}) {
    const Phase p = run_phase(thoughts, conversations, turns);
    for (const auto& [code, n] : p.errors) {
      failures += (failures.empty() ? "" : ", ") + std::to_string(conversations) +
                  " conversations: " + std::to_string(n) + " x " + code;
    }
    const auto calls = static_cast<double>(p.latency_ms.size());
    std::printf("| %-9s | %13d | %10d | %5zu | %5d / %-3d | %9.3f | %9.3f | %10.2f |", engine,
                conversations, turns, p.latency_ms.size(), p.ok, p.failed,
                percentile(p.latency_ms, 50), percentile(p.latency_ms, 95), calls / p.wall_s);
    if (llm) {
      const auto gens = recorder->take_calls();
      double tokens = 0;
      for (const auto& g : gens) tokens += g.prompt_tokens + g.completion_tokens;
      std::printf(" %13.2f | %8.0f |", static_cast<double>(gens.size()) / p.wall_s,
                  tokens / p.wall_s);
    } else {
      std::printf(" %10.3f | %10.3f |", percentile(p.cpu_ms, 50), percentile(p.cpu_ms, 95));
    }
    std::printf("\n");
  }
  if (!failures.empty()) std::printf("\nfailed calls by error: %s\n", failures.c_str());
  std::printf("\n");
}

}  // namespace
}  // namespace scribepod::bench

int main() {
  using namespace scribepod;
  using namespace scribepod::bench;
  const int turns = std::max(1, env_int("MIND_LATENCY_TURNS", 20));
  const int llm_turns = std::max(1, env_int("MIND_LATENCY_LLM_TURNS", 2));
  const int threads = std::max(1, env_int("MIND_LATENCY_THREADS", 1));

  auto heuristic = take(mind::make_heuristic_thoughts(), "heuristic engine");
  // Warm-up, so the first call does not pay for first-touch allocations.
  take(heuristic->think({conversation(1), {}}), "warm-up");
  std::printf("HeuristicThoughts, %d turns per conversation (conversations of 1..%d lines)\n\n",
              turns, turns);
  table("heuristic", *heuristic, turns, nullptr);

  TempDir dir;
  const std::string model = make_model(dir, "latency.gguf", "--ctx 4096");
  auto llama = load_llama(model, threads, /*sequences=*/2, /*n_ctx=*/4096);
  const char* prompts_env = std::getenv("SCRIBEPOD_PROMPTS_DIR");
  const std::string prompts_dir =
      prompts_env != nullptr && *prompts_env != 0 ? prompts_env : SCRIBEPOD_PROMPTS_DIR;
  auto prompts = take(mind::PromptTemplates::load(prompts_dir), "prompts");
  auto params = mind::default_llm_thoughts_params();
  params.seed = 7;  // reproducible noise; each request still differs by its prompt
  auto recorder = std::make_shared<RecordingGenerator>(llama);
  auto thoughts =
      take(mind::make_llm_thoughts(recorder, std::move(prompts), params), "LlmThoughts");
  llm::GenerateRequest warm;
  warm.messages = {{"user", "hello"}};
  warm.max_tokens = 8;
  warm.seed = 1;
  take(recorder->generate(warm), "warm-up");
  recorder->take_calls();
  std::printf(
      "LlmThoughts over LlamaGenerator (tiny llama: make_tiny_gguf --arch llama, 64 wide, "
      "2 layers, random weights, f32), 2 contexts x %d thread(s), max_tokens %d, %d turns "
      "per conversation; tokens = prompt + completion of every generation.\n\n",
      threads, params.max_tokens, llm_turns);
  table("llama", *thoughts, llm_turns, recorder.get());
  return 0;
}
