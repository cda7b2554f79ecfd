// mind_one_vs_five: the original's five sequential generations per utterance
// against our one schema-constrained generation, on the same model.
//
// (a) The original pattern (the Flan-T5 reason server): one free-text
//     generation per field, run one after another, each prompt the whole
//     conversation followed by the field's cue ("this person's intent is",
//     "this person is a", ...), each with its own budget of
//     MIND_BENCH_FIELD_TOKENS tokens (default 32). The seed does not keep the
//     original's exact prompt strings; the cues are the ones SPEC.md quotes.
// (b) Ours: mind::LlmThoughts::think(), one generation with the system and
//     user templates of prompts/ and the thoughts JSON schema as a grammar,
//     max_tokens = 5 x the per-field budget (the same total budget as (a)).
//
// The model is a llama-architecture GGUF with random weights from
// tools/make_tiny_gguf (shape MIND_BENCH_SHAPE, default --embd 384 --layers 6),
// run by the real LlamaGenerator on 2 threads. Random weights almost never
// emit end-of-generation or close a JSON string, so both patterns usually
// spend their whole budget: the equal total budget is what makes the
// comparison fair. (b)'s JSON is then cut off, LlmThoughts finds it invalid
// and makes its one repair attempt (which a random model sometimes gets right
// by chance); that attempt is an artefact of random weights and of the budget
// (a real model under the grammar closes the object), so it is reported on
// its own row, (b').
// A pass-through RecordingGenerator records every generation.
//
// Median of MIND_BENCH_RUNS runs (default 3) per conversation length.
// Run with OMP_WAIT_POLICY=passive (mind_one_vs_five.sh does).
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "mind/llm_thoughts.h"
#include "mind/prompt_templates.h"
#include "mind/thoughts_schema.h"
#include "mind_bench_util.h"

namespace scribepod::bench {
namespace {

// The five prompts of the original pattern: the conversation as it was sent
// ("person: ..." lines joined by newlines), then a cue the model completes.
struct FieldPrompt {
  const char* field;
  const char* cue;
};
constexpr FieldPrompt kFieldPrompts[] = {
    {"intent", "this person's intent is"},
    {"person_is", "this person is a"},
    {"extra_state", "one more thing we can infer about this person is that"},
    {"thoughts", "the thoughts a listener might have about what was said are"},
    {"response", "a helpful, happy agent would respond:"},
};

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Totals of a group of generations.
struct Tally {
  int generations = 0;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int truncated = 0;
  double wall_s = 0;
  double cpu_s = 0;
};

Tally tally(const std::vector<RecordingGenerator::Call>& calls, std::size_t from, std::size_t to) {
  Tally t;
  for (std::size_t i = from; i < to && i < calls.size(); ++i) {
    t.generations += 1;
    t.prompt_tokens += calls[i].prompt_tokens;
    t.completion_tokens += calls[i].completion_tokens;
    t.truncated += calls[i].truncated ? 1 : 0;
    t.wall_s += calls[i].latency_ms / 1000.0;
    t.cpu_s += calls[i].cpu_s;
  }
  return t;
}

// How many of the five keys a (possibly cut-off) compact JSON answer began.
int fields_started(const std::string& json) {
  int n = 0;
  for (const auto& f : kFieldPrompts) {
    if (json.find("\"" + std::string(f.field) + "\":\"") != std::string::npos) ++n;
  }
  return n;
}

// Printable excerpt of model output for the caption: noise, but real noise.
std::string excerpt(const std::string& text, std::size_t max) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7F && c != '|' && c != '`') ? c : (c == '\n' ? ' ' : '?');
  }
  return out;
}

struct Row {
  std::vector<double> generations, prompt, completion, wall, cpu, truncated;
  void add(const Tally& t) {
    generations.push_back(t.generations);
    prompt.push_back(t.prompt_tokens);
    completion.push_back(t.completion_tokens);
    wall.push_back(t.wall_s);
    cpu.push_back(t.cpu_s);
    truncated.push_back(t.truncated);
  }
  double processed() const { return median(prompt) + median(completion); }
};

void print_row(const char* name, const Row& r, const std::string& generated) {
  std::printf("| %-46s | %4.0f | %6.0f | %6.0f | %6.0f | %7.3f | %6.3f | %s |\n", name,
              median(r.generations), median(r.prompt), median(r.completion), r.processed(),
              median(r.wall), median(r.cpu), generated.c_str());
}

void compare(RecordingGenerator& gen, const mind::PromptTemplates& prompts, std::size_t lines,
             int field_tokens, int runs) {
  const auto convo = conversation(lines);
  const int budget = 5 * field_tokens;
  auto params = mind::default_llm_thoughts_params();
  params.max_tokens = budget;

  Row five;
  Row one;
  Row with_repair;
  std::vector<double> think_wall;
  int ours_ok = 0;
  int ours_fields = 0;
  int five_stopped = 0;
  std::string five_sample;
  std::string ours_sample;
  std::string ours_error;
  for (int run = 0; run < runs; ++run) {
    const auto seed = static_cast<std::uint32_t>(1000 + run);
    // (a): five sequential free-text generations.
    for (const auto& fp : kFieldPrompts) {
      llm::GenerateRequest req;
      req.messages = {{"user", joined(convo) + "\n" + fp.cue}};
      req.max_tokens = field_tokens;
      req.temperature = params.temperature;
      req.seed = seed;
      take(gen.generate(req), std::string("generate ") + fp.field);
    }
    const auto a_calls = gen.take_calls();
    five.add(tally(a_calls, 0, a_calls.size()));
    if (run == 0) {
      five_stopped = tally(a_calls, 0, a_calls.size()).truncated;
      five_sample = excerpt(a_calls.front().text, 60);
    }

    // (b): one think() through LlmThoughts.
    params.seed = seed;
    mind::LlmThoughts seeded(std::shared_ptr<llm::Generator>(&gen, [](llm::Generator*) {}), prompts,
                             params);
    const auto start = Clock::now();
    Result<mind::Thoughts> thoughts = seeded.think({convo, {}});
    think_wall.push_back(seconds_since(start));
    const auto b_calls = gen.take_calls();
    require(!b_calls.empty() && b_calls.front().ok, "LlmThoughts made no generation");
    one.add(tally(b_calls, 0, 1));
    with_repair.add(tally(b_calls, 0, b_calls.size()));
    ours_ok += thoughts.ok() ? 1 : 0;
    if (run == 0) {
      ours_fields = fields_started(b_calls.front().text);
      ours_sample = excerpt(b_calls.front().text, 60);
      if (!thoughts.ok()) {
        // The validator's words after LlmThoughts' own preamble.
        const std::string& m = thoughts.error().message;
        const auto at = m.find("attempt: ");
        ours_error = "failed: " + excerpt(at == std::string::npos ? m : m.substr(at + 9), 80);
      }
    }
  }

  std::printf(
      "Conversation of %zu lines; per-field budget %d tokens, so (a) 5 x %d and (b) "
      "one of %d; median of %d runs\n\n",
      lines, field_tokens, field_tokens, budget, runs);
  std::printf(
      "| %-46s | gens | prompt | compl. | total  | wall s  | CPU s  | what was generated "
      "(run 1) |\n",
      "pattern");
  std::printf(
      "|%s|------|--------|--------|--------|---------|--------|------------------------"
      "----|\n",
      std::string(48, '-').c_str());
  print_row("(a) original: 5 sequential free-text gens", five,
            std::to_string(5 - five_stopped) + "/5 ended by EOS, " + std::to_string(five_stopped) +
                "/5 by budget; intent: `" + five_sample + "`");
  print_row("(b) ours: LlmThoughts' one generation", one,
            std::to_string(ours_fields) + "/5 JSON fields begun before the budget: `" +
                ours_sample + "`");
  with_repair.wall = think_wall;  // think() wall time, parsing and repair included
  print_row("(b') LlmThoughts::think() incl. repair attempt", with_repair,
            std::to_string(ours_ok) + "/" + std::to_string(runs) + " valid" +
                (ours_error.empty() ? std::string() : "; " + ours_error));
  std::printf(
      "\n(a)/(b): wall time %.2fx, CPU time %.2fx, tokens processed %.2fx. "
      "(a)/(b'): wall time %.2fx, CPU time %.2fx, tokens processed %.2fx.\n\n",
      median(five.wall) / median(one.wall), median(five.cpu) / median(one.cpu),
      five.processed() / one.processed(), median(five.wall) / median(with_repair.wall),
      median(five.cpu) / median(with_repair.cpu), five.processed() / with_repair.processed());
}

// Where the time goes on this model: prompt processing per token (a 1-token
// generation of (b)'s prompt for the longest conversation), then, per kind of
// generation, the set-up (its 1-token generation minus the free-text one of
// the same prompt) and the cost per generated token (a full-budget generation
// minus its 1-token one): free text after (b)'s long prompt and after (a)'s
// short intent prompt, the thoughts schema's grammar, and the same schema
// without its maxLength bounds (char{1,N} is what a grammar pays for a bound).
void cost_model(RecordingGenerator& gen, const mind::PromptTemplates& prompts, std::size_t lines,
                int budget, int runs) {
  std::string unbounded = R"({"type":"object","properties":{)";
  for (const auto& fp : kFieldPrompts) {
    if (unbounded.back() == '}') unbounded += ",";
    unbounded += "\"" + std::string(fp.field) + R"(":{"type":"string","minLength":1})";
  }
  unbounded += R"(},"required":["intent","person_is","extra_state","thoughts","response"],)"
               R"("additionalProperties":false})";
  const auto convo = conversation(lines);
  const std::vector<llm::ChatMessage> long_prompt = {{"system", prompts.system()},
                                                     {"user", prompts.render_user(convo)}};
  const std::vector<llm::ChatMessage> short_prompt = {
      {"user", joined(conversation(4)) + "\n" + kFieldPrompts[0].cue}};
  struct Kind {
    std::string name;
    const std::vector<llm::ChatMessage>* messages;
    std::string schema;
  };
  const Kind kinds[] = {
      {"free text after (b)'s prompt", &long_prompt, ""},
      {"free text after (a)'s 4-line intent prompt", &short_prompt, ""},
      {"thoughts schema (maxLength 300-800)", &long_prompt, mind::thoughts_json_schema()},
      {"thoughts schema without maxLength", &long_prompt, unbounded},
  };

  llm::GenerateRequest req;
  req.temperature = 0.7F;
  std::vector<double> prefill_ms;
  std::vector<std::vector<double>> setup_ms(std::size(kinds));
  std::vector<std::vector<double>> decode_ms(std::size(kinds));
  std::vector<int> prompt_tokens(std::size(kinds));
  for (int run = 0; run < runs; ++run) {
    req.seed = static_cast<std::uint32_t>(2000 + run);
    for (const auto& k : kinds) {
      req.messages = *k.messages;
      req.json_schema = k.schema;
      req.max_tokens = 1;
      take(gen.generate(req), "prefill " + k.name);
      req.max_tokens = budget;
      take(gen.generate(req), "generate " + k.name);
    }
    const auto calls = gen.take_calls();
    prefill_ms.push_back(calls[0].latency_ms / std::max(1, calls[0].prompt_tokens));
    for (std::size_t i = 0; i < std::size(kinds); ++i) {
      const auto& one = calls[2 * i];
      const auto& full = calls[2 * i + 1];
      prompt_tokens[i] = one.prompt_tokens;
      setup_ms[i].push_back(one.latency_ms - calls[0].latency_ms);
      decode_ms[i].push_back((full.latency_ms - one.latency_ms) /
                             std::max(1, full.completion_tokens - 1));
    }
  }
  std::printf("Where the time goes: budget %d tokens, median of %d, wall ms\n\n", budget, runs);
  std::printf("| step | ms |\n|---|---|\n");
  std::printf("| prompt processing, per token of (b)'s %d-token prompt (%zu lines) | %.3f |\n",
              prompt_tokens[0], lines, median(prefill_ms));
  for (std::size_t i = 2; i < std::size(kinds); ++i) {
    std::printf("| grammar set-up per request, %s | %.3f |\n", kinds[i].name.c_str(),
                median(setup_ms[i]));
  }
  for (std::size_t i = 0; i < std::size(kinds); ++i) {
    std::printf("| per generated token, %s (%d-token prompt) | %.3f |\n", kinds[i].name.c_str(),
                prompt_tokens[i], median(decode_ms[i]));
  }
}

}  // namespace
}  // namespace scribepod::bench

int main() {
  using namespace scribepod;
  using namespace scribepod::bench;
  const int runs = std::max(1, env_int("MIND_BENCH_RUNS", 3));
  const int field_tokens = std::max(1, env_int("MIND_BENCH_FIELD_TOKENS", 32));
  const int threads = std::max(1, env_int("MIND_BENCH_THREADS", 2));
  const char* shape_env = std::getenv("MIND_BENCH_SHAPE");
  const std::string shape =
      shape_env != nullptr && *shape_env != 0 ? shape_env : "--embd 384 --layers 6";

  TempDir dir;
  const std::string model = make_model(dir, "one-vs-five.gguf", shape + " --ctx 4096");
  auto llama = load_llama(model, threads, /*sequences=*/1, /*n_ctx=*/4096);
  RecordingGenerator gen(llama);
  const char* prompts_env = std::getenv("SCRIBEPOD_PROMPTS_DIR");
  const std::string prompts_dir =
      prompts_env != nullptr && *prompts_env != 0 ? prompts_env : SCRIBEPOD_PROMPTS_DIR;
  const auto prompts = take(mind::PromptTemplates::load(prompts_dir), "prompts");

  // Warm-up: first-touch of the weights and the compute buffers.
  llm::GenerateRequest warm;
  warm.messages = {{"user", "hello"}};
  warm.max_tokens = 8;
  take(gen.generate(warm), "warm-up");
  gen.take_calls();

  std::printf(
      "Model: llama architecture, random weights (make_tiny_gguf --arch llama %s; "
      "4 heads, n_ff 128, ~700-token vocabulary, f32), LlamaGenerator with %d threads, "
      "temperature 0.7, fixed seeds.\n\n",
      shape.c_str(), threads);
  std::printf(
      "Both patterns get the same total completion budget (5 x %d tokens for (a), one "
      "generation of %d for (b)): random weights do not stop by themselves, so equal budgets "
      "mean (nearly) equal generated tokens, and what differs is the prompt processing and "
      "the constrained sampling. gens = generations; total = prompt + completion tokens; "
      "wall s = the generations' own wall time ((b'): think() as the caller sees it); CPU s = "
      "the process's CPU time over the generations (the machine is shared: CPU time is the "
      "steadier figure).\n\n",
      field_tokens, 5 * field_tokens);
  for (std::size_t lines : {4U, 16U}) compare(gen, prompts, lines, field_tokens, runs);
  cost_model(gen, prompts, 16, 5 * field_tokens, runs);
  return 0;
}
