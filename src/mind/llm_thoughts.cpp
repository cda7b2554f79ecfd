#include "mind/llm_thoughts.h"

#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

#include "mind/json_field_stream.h"
#include "mind/thoughts_schema.h"
#include "telemetry/log.h"
#include "telemetry/service_metrics.h"

namespace scribepod::mind {
namespace {

// One attempt's generation, streaming the response field when asked to.
struct Attempt {
  Result<llm::Generation> generation;
  bool streamed = false;   // on_response got at least one piece
  bool cancelled = false;  // on_response returned false
};

Attempt run_attempt(llm::Generator& generator, llm::GenerateRequest request,
                    const ThinkRequest& think, bool stream) {
  JsonFieldStream extractor("response");
  bool streamed = false;
  bool cancelled = false;
  if (stream && think.on_response) {
    request.on_text = [&](std::string_view piece) {
      const std::string text = extractor.feed(piece);
      if (text.empty()) return true;
      streamed = true;
      if (!think.on_response(text)) {
        cancelled = true;
        return false;
      }
      return true;
    };
  }
  Result<llm::Generation> generation = generator.generate(request);
  if (generation.ok() && !cancelled && stream && think.on_response) {
    const std::string rest = extractor.finish();
    if (!rest.empty()) {
      streamed = true;
      cancelled = !think.on_response(rest);
    }
  }
  return Attempt{std::move(generation), streamed, cancelled};
}

}  // namespace

LlmThoughtsParams default_llm_thoughts_params() { return LlmThoughtsParams{}; }

LlmThoughts::LlmThoughts(std::shared_ptr<llm::Generator> generator, PromptTemplates prompts,
                         LlmThoughtsParams params)
    : generator_(std::move(generator)), prompts_(std::move(prompts)), params_(params) {
  if (!generator_) throw std::invalid_argument("LlmThoughts needs a generator");
}

std::string LlmThoughts::name() const { return generator_->name(); }

std::string LlmThoughts::describe() const {
  return "thoughts from " + generator_->describe() + " (JSON schema" +
         (params_.parallel_fields ? ", fields in parallel" : "") + ", one repair attempt)";
}

bool LlmThoughts::ready(std::string& detail) const { return generator_->ready(detail); }

Result<Thoughts> LlmThoughts::think(const ThinkRequest& request) {
  if (request.conversation.empty()) {
    return Error::bad_request("the conversation is empty: nothing to think about");
  }
  const auto start = std::chrono::steady_clock::now();

  llm::GenerateRequest gen;
  gen.messages = {{"system", prompts_.system()},
                  {"user", prompts_.render_user(request.conversation)}};
  gen.json_schema = thoughts_json_schema();
  gen.max_tokens = params_.max_tokens;
  gen.temperature = params_.temperature;
  gen.seed = params_.seed;
  gen.parallel_fields = params_.parallel_fields;

  int prompt_tokens = 0;
  int completion_tokens = 0;
  auto cancelled_error = [] {
    return Error{ErrorCode::kUnavailable, "thought generation was cancelled", {}};
  };

  Attempt first = run_attempt(*generator_, gen, request, /*stream=*/true);
  if (!first.generation) return std::move(first.generation).take_error();
  if (first.cancelled) return cancelled_error();
  prompt_tokens += first.generation->prompt_tokens;
  completion_tokens += first.generation->completion_tokens;

  Result<Thoughts> parsed = parse_thoughts(first.generation->text);
  if (!parsed) {
    std::string problem = parsed.error().message;
    if (first.generation->truncated) problem += " (the answer was cut off at the token limit)";
    log::warn("thoughts output invalid, asking the model to repair it",
              {{"engine", generator_->name()}, {"problem", problem}});
    llm::GenerateRequest repair = gen;
    repair.messages.push_back({"assistant", first.generation->text});
    repair.messages.push_back({"user", prompts_.render_repair(first.generation->text, problem)});
    Attempt second = run_attempt(*generator_, repair, request, /*stream=*/!first.streamed);
    if (!second.generation) return std::move(second.generation).take_error();
    if (second.cancelled) return cancelled_error();
    prompt_tokens += second.generation->prompt_tokens;
    completion_tokens += second.generation->completion_tokens;
    parsed = parse_thoughts(second.generation->text);
    if (!parsed) {
      log::warn("thoughts output still invalid after repair",
                {{"engine", generator_->name()}, {"problem", parsed.error().message}});
      return Error{ErrorCode::kUpstreamFailed,
                   "the language model did not produce valid thoughts after one repair "
                   "attempt: " +
                       parsed.error().message,
                   {}};
    }
  }

  Thoughts thoughts = std::move(parsed).value();
  thoughts.engine = generator_->name();
  thoughts.prompt_tokens = prompt_tokens;
  thoughts.completion_tokens = completion_tokens;
  thoughts.latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  metrics::observe_thoughts(thoughts.engine, thoughts.latency_ms / 1000.0);
  return thoughts;
}

}  // namespace scribepod::mind
