#include "api/app.h"

#include <fmt/format.h>

#include <boost/asio/ip/address.hpp>
#include <filesystem>
#include <thread>

#include "api/conversation_routes.h"
#include "api/engines.h"
#include "api/health_routes.h"
#include "api/metrics_routes.h"
#include "api/transcribe_routes.h"
#include "api/web_routes.h"
#include "http/access_log.h"
#include "http/api_key_auth.h"
#include "http/cors.h"
#include "http/metrics_middleware.h"
#include "http/request_id.h"
#include "http/static_files.h"
#include "telemetry/log.h"
#include "telemetry/service_metrics.h"

namespace scribepod::api {

App::App(const config::Config& config)
    : config_(config), connections_(std::make_shared<std::function<std::size_t()>>()) {
  chain_.add(std::make_unique<http::RequestIdMiddleware>());
  chain_.add(std::make_unique<http::MetricsMiddleware>());
  if (config.log.access_log) chain_.add(std::make_unique<http::AccessLogMiddleware>());
  chain_.add(
      std::make_unique<http::CorsMiddleware>(config.cors.allowed_origins, config.cors.max_age));
  chain_.add(std::make_unique<http::ApiKeyMiddleware>(config.auth.api_keys, config.auth.admin_key,
                                                      std::vector<std::string>{"/v1/stream"}));
  if (config.rate_limit.enabled) {
    per_client_ = std::make_unique<http::TokenBucketLimiter>(config.rate_limit.per_client_rps,
                                                             config.rate_limit.per_client_burst,
                                                             config.rate_limit.max_tracked_clients);
    per_session_ = std::make_unique<http::TokenBucketLimiter>(
        config.rate_limit.per_session_rps, config.rate_limit.per_session_burst,
        config.rate_limit.max_tracked_clients);
    chain_.add(std::make_unique<http::RateLimitMiddleware>(*per_client_, *per_session_));
  }

  // Conversations are created in create(), after the routes exist.
  auto active_sessions = [this] {
    return conversations_ ? conversations_->registry().size() : std::size_t{0};
  };
  add_health_routes(router_, HealthSources{
                                 .readiness = &readiness_,
                                 .started = started_,
                                 .environment = config.server.environment,
                                 .active_sessions = active_sessions,
                                 .active_connections =
                                     [c = connections_] { return *c ? (*c)() : std::size_t{0}; },
                             });
  add_metrics_routes(router_, MetricsSources{.active_sessions = active_sessions});
}

void App::add_web_page() {
  // Last: the page's top-level files must not shadow API routes.
  const std::string web_root = resolve_static_dir(config_);
  add_web_routes(router_, std::make_shared<http::StaticFiles>(web_root), web_root);
}

App::~App() {
  if (compute_pool_) compute_pool_->join();
  if (mind_pool_) mind_pool_->join();
  if (conversations_) conversations_->registry().stop_sweeper();
}

Result<std::unique_ptr<App>> App::create(const config::Config& config) {
  auto recognizer = make_recognizer(config);
  if (!recognizer) return std::move(recognizer).take_error();
  std::unique_ptr<App> app(new App(config));
  app->readiness_.set_probe("asr", [engine = *recognizer] {
    Readiness::Component c;
    c.ready = engine->ready(c.detail);
    return c;
  });
  asr::TranscriberOptions topts;
  topts.limits.max_duration_s = config.audio.max_duration_s;
  topts.vad_gate = config.asr.vad_gate;
  app->compute_pool_ =
      std::make_unique<boost::asio::thread_pool>(std::max<std::size_t>(1, config.asr.concurrency));
  auto transcriber = std::make_shared<const asr::Transcriber>(*recognizer, topts);
  add_transcribe_routes(app->router_, TranscribeDeps{
                                          .transcriber = transcriber,
                                          .pool = app->compute_pool_.get(),
                                          .default_language = config.asr.language,
                                          .max_file_bytes = config.server.max_body_bytes,
                                      });

  auto thoughts = make_thoughts_engine(config);
  if (!thoughts) return std::move(thoughts).take_error();
  app->readiness_.set_probe("mind", [engine = *thoughts] {
    Readiness::Component c;
    c.ready = engine->ready(c.detail);
    return c;
  });
  auto history = make_history_store(config);
  if (!history) return std::move(history).take_error();
  // The store's check is a database round trip: at most one per second,
  // however often /health and /ready are asked.
  app->readiness_.set_probe(
      "store",
      [store = *history] {
        Readiness::Component c;
        c.ready = store->ready(c.detail);
        return c;
      },
      std::chrono::seconds(1));
  live::ConversationOptions copts;
  copts.registry.timeout = config.session.timeout;
  copts.registry.sweep_interval = config.session.sweep_interval;
  copts.registry.max_sessions = config.session.max_sessions;
  copts.max_history_lines = config.mind.max_history_lines;
  app->conversations_ = std::make_shared<live::Conversations>(*thoughts, *history, copts);
  app->conversations_->registry().start_sweeper(
      [store = *history, retention = config.store.retention](std::size_t removed) {
        if (removed > 0) log::info("expired idle sessions", {{"removed", removed}});
        if (retention.count() <= 0) return;
        auto deleted = store->delete_idle(std::chrono::system_clock::now() - retention);
        if (!deleted) {
          log::warn("history retention sweep failed", {{"error", deleted.error().message}});
        } else if (*deleted > 0) {
          log::info("deleted history past retention", {{"sessions", *deleted}});
        }
      });
  app->mind_pool_ =
      std::make_unique<boost::asio::thread_pool>(std::max<std::size_t>(2, config.llm.concurrency));
  add_conversation_routes(app->router_, ConversationDeps{
                                            .conversations = app->conversations_,
                                            .transcriber = transcriber,
                                            .asr_pool = app->compute_pool_.get(),
                                            .mind_pool = app->mind_pool_.get(),
                                            .default_language = config.asr.language,
                                            .max_file_bytes = config.server.max_body_bytes,
                                        });
  app->resume_ = std::make_unique<live::ResumeRegistry>();
  app->stream_deps_ = std::make_unique<live::StreamDeps>(live::StreamDeps{
      .recognizer = *recognizer,
      .conversations = app->conversations_,
      .compute = *app->compute_pool_,
      .mind = *app->mind_pool_,
      .live = config.live,
      .language = config.asr.language,
      .resume = *app->resume_,
  });
  app->streams_ = add_stream_routes(
      app->router_, StreamRouteDeps{
                        .make_session =
                            [deps = app->stream_deps_.get()](live::EventSink sink) {
                              return live::make_stream_session(*deps, std::move(sink));
                            },
                        .max_streams = config.live.max_streams,
                        .max_frame_bytes = config.live.max_frame_bytes,
                        .idle_timeout = config.live.idle_timeout,
                        .allowed_origins = config.cors.allowed_origins,
                        .shutdown_grace = config.server.shutdown_grace,
                        .production = config.server.environment == "production",
                    });
  app->metric_bindings_.push_back(metrics::service().active_streams.bind(
      {}, [hub = app->streams_] { return static_cast<double>(hub->open_streams()); }));
  app->add_web_page();
  return app;
}

void App::set_connection_counter(std::function<std::size_t()> counter) {
  *connections_ = std::move(counter);
}

http::ServerOptions App::server_options() const {
  const auto& s = config_.server;
  http::ServerOptions o;
  o.host = s.host;
  o.port = s.port;
  o.threads = s.threads > 0 ? s.threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.max_connections = s.max_connections;
  o.max_header_bytes = s.max_header_bytes;
  o.max_body_bytes = s.max_body_bytes;
  o.read_timeout = s.read_timeout;
  o.idle_timeout = s.idle_timeout;
  o.write_timeout = s.write_timeout;
  o.shutdown_grace = s.shutdown_grace;
  o.production = s.environment == "production";
  o.on_shutdown = [streams = streams_] {
    if (streams) streams->shutdown();
  };
  return o;
}

Status check_exposure(const config::Config& config) {
  const std::string& host = config.server.host;
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  const bool loopback = host == "localhost" || (!ec && addr.is_loopback());
  const bool has_keys = !config.auth.api_keys.empty();
  if (loopback || has_keys || config.server.allow_unauthenticated) return {};
  return Error::invalid_config(
      fmt::format("refusing to serve without API keys on non-loopback address {}: set API_KEY (or "
                  "auth.api_keys_file), listen on 127.0.0.1, or pass --allow-unauthenticated",
                  host));
}

std::string resolve_static_dir(const config::Config& config) {
  if (!config.server.static_dir.empty()) return config.server.static_dir;
  std::error_code ec;
  if (std::filesystem::is_directory("web/dist", ec)) return "web/dist";
  return SCRIBEPOD_SHARE_DIR "/web";
}

}  // namespace scribepod::api
