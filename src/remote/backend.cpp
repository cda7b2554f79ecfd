#include "remote/backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <thread>

#include "telemetry/log.h"
#include "telemetry/service_metrics.h"

namespace scribepod::remote {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The backend's own words about what went wrong, short and on one line:
// OpenAI-style {"error": {"message": ...}}, {"error": "..."}, {"detail": ...}
// or {"message": ...}, else the start of the body.
std::string backend_message(const std::string& body) {
  constexpr size_t kMax = 300;
  std::string text;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    const auto pick = [](const nlohmann::json& v) -> std::string {
      if (v.is_string()) return v.get<std::string>();
      if (v.is_object() && v.contains("message") && v["message"].is_string()) {
        return v["message"].get<std::string>();
      }
      return {};
    };
    for (const char* key : {"error", "detail", "message"}) {
      if (j.contains(key) && !(text = pick(j[key])).empty()) break;
    }
  }
  if (text.empty()) text = body;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

std::optional<std::chrono::seconds> to_retry_after(std::optional<std::chrono::milliseconds> d) {
  if (!d) return std::nullopt;
  return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(*d));
}

Error status_error(const std::string& backend, const HttpResponse& response,
                   std::optional<std::chrono::milliseconds> retry_after) {
  const long s = response.status;
  std::string what = fmt::format("backend {} answered {}", backend, s);
  const std::string detail = backend_message(response.body);
  // A 4xx is the backend's verdict on our request (a bad key, a bad file):
  // worth passing on. A 5xx body is the backend's own internals (a stack
  // trace, a host name): it goes to the log, never to our client.
  if (s >= 500) {
    if (!detail.empty()) {
      log::warn("remote backend error", {{"backend", backend}, {"status", s}, {"detail", detail}});
    }
  } else if (!detail.empty()) {
    what += ": " + detail;
  }
  if (s == 429 || s == 503)
    return {ErrorCode::kUnavailable, std::move(what), to_retry_after(retry_after)};
  if (s == 504) return {ErrorCode::kUpstreamTimeout, std::move(what), {}};
  if (s == 413) return {ErrorCode::kPayloadTooLarge, std::move(what), {}};
  return {ErrorCode::kUpstreamFailed, std::move(what), {}};
}

}  // namespace

Backend::Backend(std::string name, std::string base_url, std::string api_key, ClientOptions client,
                 RetryPolicy retry, BreakerOptions breaker, RetryHooks hooks)
    : name_(std::move(name)),
      base_url_([&] {
        while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
        return std::move(base_url);
      }()),
      api_key_(std::move(api_key)),
      retry_(retry),
      hooks_(std::move(hooks)),
      client_(client),
      breaker_(name_, breaker),
      rng_(std::random_device{}()),
      state_metric_(metrics::service().circuit_breaker_state.bind({name_}, [this] {
        return metrics::breaker_state_value(breaker_state_name(breaker_.state()));
      })) {}

std::chrono::milliseconds Backend::jittered_backoff(int attempt) {
  double u = 0;
  if (hooks_.uniform01) {
    u = hooks_.uniform01();
  } else {
    std::lock_guard lock(rng_mu_);
    u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }
  return backoff_delay(retry_, attempt, u);
}

Result<HttpResponse> Backend::call(HttpRequest request) {
  if (request.url.empty() || request.url.front() == '/') request.url = base_url_ + request.url;
  const bool has_auth =
      std::any_of(request.headers.begin(), request.headers.end(),
                  [](const auto& h) { return iequals(h.first, "authorization"); });
  if (!api_key_.empty() && !has_auth)
    request.headers.emplace_back("Authorization", "Bearer " + api_key_);
  const std::string shown_url = redact_url(request.url);
  const int max_attempts = std::max(1, retry_.max_attempts);

  for (int attempt = 1;; ++attempt) {
    if (Status allowed = breaker_.allow(); !allowed.ok()) {
      log::debug("remote call refused", {{"backend", name_}, {"reason", "circuit_open"}});
      return std::move(allowed).take_error();
    }
    Exchange ex = client_.exchange(request);

    // Sort the outcome: done (2xx or not worth retrying) or retryable.
    std::optional<Error> error;
    std::optional<std::chrono::milliseconds> retry_after;
    std::string reason;
    bool retryable = false;
    if (!ex.result.ok()) {
      breaker_.record_failure();  // no usable answer: count against the backend
      retryable = is_retryable_failure(ex.failure);
      reason = std::string(transport_failure_name(ex.failure));
      error = ex.result.error();
    } else {
      const HttpResponse& response = ex.result.value();
      log::debug("remote call", {{"backend", name_},
                                 {"method", request.method},
                                 {"url", shown_url},
                                 {"status", response.status},
                                 {"attempt", attempt},
                                 {"duration_ms", response.elapsed_ms}});
      retryable = is_retryable_status(response.status);
      if (retryable) {
        breaker_.record_failure();
      } else {
        breaker_.record_success();  // it answered, even if with a 4xx
      }
      if (response.status >= 200 && response.status < 300) return std::move(ex.result);
      if (response.status == 429 || response.status == 503) {
        retry_after =
            parse_retry_after(response.header("retry-after"), std::chrono::system_clock::now());
      }
      reason = fmt::format("status {}", response.status);
      error = status_error(name_, response, retry_after);
    }

    if (!retryable) return std::move(*error);
    if (attempt >= max_attempts) {
      log::warn("remote call failed", {{"backend", name_},
                                       {"attempts", attempt},
                                       {"reason", reason},
                                       {"error", error->message}});
      return std::move(*error);
    }
    if (retry_after && *retry_after > retry_.max_delay) {
      // The server wants more patience than a request thread may spend:
      // fail now and pass its advice on to our client.
      log::warn("remote call not retried",
                {{"backend", name_},
                 {"attempt", attempt},
                 {"reason", reason},
                 {"retry_after_ms", static_cast<long long>(retry_after->count())}});
      error->retry_after = to_retry_after(retry_after);
      return std::move(*error);
    }
    const std::chrono::milliseconds delay = retry_after ? *retry_after : jittered_backoff(attempt);
    log::warn("retrying remote call", {{"backend", name_},
                                       {"attempt", attempt},
                                       {"max_attempts", max_attempts},
                                       {"delay_ms", static_cast<long long>(delay.count())},
                                       {"reason", reason},
                                       {"retry_after", retry_after.has_value()}});
    metrics::count_remote_retry(name_);
    if (hooks_.sleep) {
      hooks_.sleep(delay);
    } else {
      std::this_thread::sleep_for(delay);
    }
  }
}

}  // namespace scribepod::remote
