#include "llm/openai/openai_generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "llm/openai/chat_completion.h"
#include "telemetry/log.h"
#include "telemetry/service_metrics.h"

namespace scribepod::llm {
namespace {

using Clock = std::chrono::steady_clock;

bool is_http_url(std::string_view url) {
  const std::string_view scheme = url.starts_with("https://") ? "https://" : "http://";
  return url.starts_with(scheme) && url.size() > scheme.size();
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

Result<std::unique_ptr<OpenAiGenerator>> OpenAiGenerator::create(OpenAiParams params) {
  const std::string shown_url = remote::redact_url(params.base_url);
  while (!params.base_url.empty() && params.base_url.back() == '/') params.base_url.pop_back();
  if (params.base_url.ends_with("/v1")) params.base_url.resize(params.base_url.size() - 3);
  if (!is_http_url(params.base_url)) {
    return Error::invalid_config(fmt::format(
        "OpenAI-compatible LLM base URL \"{}\" is not an http:// or https:// URL", shown_url));
  }
  if (params.model.empty()) return Error::invalid_config("OpenAI-compatible LLM model is empty");
  if (params.timeouts.total_timeout.count() <= 0 || params.timeouts.connect_timeout.count() <= 0) {
    return Error::invalid_config("OpenAI-compatible LLM timeouts must be positive");
  }
  if (params.retry.max_attempts < 1) {
    return Error::invalid_config("OpenAI-compatible LLM attempts must be at least 1");
  }
  if (params.breaker.failure_threshold < 1 || params.breaker.cooldown.count() <= 0) {
    return Error::invalid_config(
        "OpenAI-compatible LLM circuit breaker needs a threshold of at least 1 and a positive "
        "cooldown");
  }
  if (params.max_concurrency < 1 || params.queue_timeout.count() < 0) {
    return Error::invalid_config(
        "OpenAI-compatible LLM max_concurrency must be at least 1 and queue_timeout not negative");
  }
  log::info("openai generator ready", {{"backend", params.backend_name},
                                       {"url", remote::redact_url(params.base_url)},
                                       {"model", params.model},
                                       {"api_key_set", !params.api_key.empty()}});
  return std::make_unique<OpenAiGenerator>(Passkey{}, std::move(params));
}

OpenAiGenerator::OpenAiGenerator(Passkey /*only create() makes one*/, OpenAiParams params)
    : params_(std::move(params)),
      backend_(params_.backend_name, params_.base_url, params_.api_key, params_.timeouts,
               params_.retry, params_.breaker, params_.retry_hooks) {}

std::string OpenAiGenerator::describe() const {
  return fmt::format("{} at {} (circuit {})", params_.model,
                     remote::redact_url(backend_.base_url()),
                     remote::breaker_state_name(backend_.breaker().state()));
}

bool OpenAiGenerator::ready(std::string& detail) const {
  if (backend_.breaker().state() != remote::BreakerState::kOpen) {
    detail = describe();
    return true;
  }
  const auto now = Clock::now();
  Clock::duration remaining = params_.breaker.cooldown;
  {
    std::lock_guard lock(open_mu_);
    if (probe_at_ && *probe_at_ > now) remaining = *probe_at_ - now;
  }
  const long long wait_s =
      std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(remaining).count());
  detail = fmt::format("{} at {}: circuit open, retry in {}s", params_.model,
                       remote::redact_url(backend_.base_url()), wait_s);
  return false;
}

// Remembers when an open circuit will let its probe through, for ready().
// Called after each call, so the moment is at most one backoff delay after
// the breaker's own; a later sighting of the same open period keeps the
// earlier (closer) deadline.
void OpenAiGenerator::note_breaker_state() {
  const remote::BreakerState state = backend_.breaker().state();
  const auto now = Clock::now();
  std::lock_guard lock(open_mu_);
  if (state == remote::BreakerState::kOpen) {
    if (!probe_at_ || *probe_at_ <= now) probe_at_ = now + params_.breaker.cooldown;
  } else if (state == remote::BreakerState::kClosed) {
    probe_at_.reset();
  }
}

Status OpenAiGenerator::acquire_slot() {
  std::unique_lock lock(slots_mu_);
  if (!slots_cv_.wait_for(lock, params_.queue_timeout,
                          [this] { return in_flight_ < params_.max_concurrency; })) {
    return Error{ErrorCode::kUnavailable,
                 fmt::format("backend {} is busy: {} calls in flight, none finished within {} ms",
                             params_.backend_name, in_flight_,
                             static_cast<long long>(params_.queue_timeout.count())),
                 std::chrono::seconds(1)};
  }
  ++in_flight_;
  return {};
}

void OpenAiGenerator::release_slot() {
  {
    std::lock_guard lock(slots_mu_);
    --in_flight_;
  }
  slots_cv_.notify_one();
}

Result<Generation> OpenAiGenerator::generate(const GenerateRequest& request) {
  const auto start = Clock::now();
  if (request.messages.empty()) {
    return Error::internal("a generation needs at least one message");
  }
  if (request.max_tokens < 1) return Error::internal("a generation needs max_tokens >= 1");
  auto body = build_chat_completion_body(params_.model, request);
  if (!body.ok()) return std::move(body).take_error();

  remote::HttpRequest http;
  http.method = "POST";
  http.url = std::string(kChatCompletionsPath);
  http.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  http.body = std::move(body).value();

  if (Status slot = acquire_slot(); !slot.ok()) return std::move(slot).take_error();
  auto response = [&] {
    struct SlotGuard {
      OpenAiGenerator* self;
      ~SlotGuard() { self->release_slot(); }
    } guard{this};
    return backend_.call(std::move(http));
  }();
  note_breaker_state();
  if (!response.ok()) return std::move(response).take_error();

  auto parsed = parse_chat_completion(response->body);
  if (!parsed.ok()) {
    log::warn("chat completion unusable", {{"backend", params_.backend_name},
                                           {"error", parsed.error().message},
                                           {"bytes", response->body.size()}});
    return Error{ErrorCode::kUpstreamFailed,
                 fmt::format("backend {} sent an unusable chat completion: {}",
                             params_.backend_name, parsed.error().message),
                 {}};
  }

  Generation g;
  g.text = std::move(parsed->content);
  g.engine = "openai";
  g.model = parsed->model.empty() ? params_.model : std::move(parsed->model);
  g.prompt_tokens = parsed->prompt_tokens;
  g.completion_tokens = parsed->completion_tokens;
  g.truncated = parsed->finish_reason == "length";
  // The whole content at once: the client buffers replies (see the header).
  if (request.on_text && !g.text.empty()) request.on_text(g.text);
  g.latency_ms = ms_since(start);
  metrics::observe_generation(g.engine, g.prompt_tokens, g.completion_tokens,
                              g.latency_ms / 1000.0);
  log::debug("generation", {{"backend", params_.backend_name},
                            {"model", g.model},
                            {"prompt_tokens", g.prompt_tokens},
                            {"completion_tokens", g.completion_tokens},
                            {"truncated", g.truncated},
                            {"latency_ms", g.latency_ms}});
  return g;
}

Result<std::unique_ptr<Generator>> make_openai_generator(const OpenAiParams& params) {
  auto g = OpenAiGenerator::create(params);
  if (!g.ok()) return std::move(g).take_error();
  return std::unique_ptr<Generator>(std::move(g).value());
}

}  // namespace scribepod::llm
