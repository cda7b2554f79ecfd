// App: Scribepod's HTTP front, assembled from the configuration: the
// middleware chain (request id, access log, CORS, API keys, rate limits),
// the routes, and the registry that /ready reports from. The `serve`
// command owns one App and runs an http::Server over it.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "api/stream_routes.h"
#include "config/config.h"
#include "core/readiness.h"
#include "core/result.h"
#include "http/middleware.h"
#include "http/rate_limiter.h"
#include "http/router.h"
#include "http/server.h"
#include "live/conversations.h"
#include "live/resume_registry.h"
#include "live/stream_pipeline.h"
#include "telemetry/metrics.h"

namespace scribepod::api {

class App {
 public:
  // Builds the engines the configuration names and the routes over them.
  // Fails (kInvalidConfig) when an engine can't start, e.g. a missing model.
  static Result<std::unique_ptr<App>> create(const config::Config& config);
  ~App();

  const http::Router& router() const { return router_; }
  http::Router& router() { return router_; }
  const http::MiddlewareChain& chain() const { return chain_; }
  Readiness& readiness() { return readiness_; }
  live::Conversations& conversations() { return *conversations_; }

  // Server options from the configuration (threads resolved).
  http::ServerOptions server_options() const;
  // Connect the connection gauge once a server exists.
  void set_connection_counter(std::function<std::size_t()> counter);

 private:
  const config::Config& config_;
  Readiness readiness_;
  http::Router router_;
  http::MiddlewareChain chain_;
  std::unique_ptr<http::TokenBucketLimiter> per_client_;
  std::unique_ptr<http::TokenBucketLimiter> per_session_;
  explicit App(const config::Config& config);
  void add_web_page();

  std::shared_ptr<std::function<std::size_t()>> connections_;
  // Thoughts and history-store work run here, so a slow model never holds
  // up recognition (and the reverse).
  // Declared before compute_pool_ so that it is destroyed after it: ~App
  // joins the compute pool first, so handlers that mind work posts back to a
  // live stream's compute strand stay queued there, and destroying them may
  // drop the last reference to a stream pipeline, whose strand on this pool
  // must still have its pool (ASan: heap-use-after-free on SIGTERM with
  // live streams open, tests/fault/shutdown_fault_test.cpp).
  std::unique_ptr<boost::asio::thread_pool> mind_pool_;
  // Recognition runs here, off the I/O threads.
  std::unique_ptr<boost::asio::thread_pool> compute_pool_;
  std::shared_ptr<live::Conversations> conversations_;
  // GET /v1/stream: resumable live sessions and the open streams.
  std::unique_ptr<live::ResumeRegistry> resume_;
  std::unique_ptr<live::StreamDeps> stream_deps_;
  std::shared_ptr<StreamHub> streams_;
  std::vector<metrics::CallbackHandle> metric_bindings_;  // gauges read at scrape time
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// Refuses configurations that would expose an unauthenticated API beyond
// this machine, unless server.allow_unauthenticated says so explicitly.
Status check_exposure(const config::Config& config);

// The directory the web page is served from: server.static_dir, else
// web/dist next to the working directory, else the installed share dir.
std::string resolve_static_dir(const config::Config& config);

}  // namespace scribepod::api
