// Costs on the request path that every request pays: routing, the access
// log line, and parsing an upload of the size the original page sent.
#include <benchmark/benchmark.h>

#include "http/multipart.h"
#include "http/router.h"
#include "telemetry/log.h"

namespace scribepod::http {
namespace {

Handler noop() {
  return [](Request& req, Context&) -> boost::asio::awaitable<Result<Response>> {
    co_return make_response(req, StatusCode::ok, "", "text/plain");
  };
}

void BM_RouterMatch(benchmark::State& state) {
  Router r;
  for (const char* p :
       {"/health", "/ready", "/metrics", "/transcribe", "/conversation", "/generate_thots",
        "/silence_detect", "/v1/audio/transcriptions", "/v1/sessions/{id}", "/v1/podcasts/{id}",
        "/v1/podcasts/{id}/audio", "/assets/{path...}"}) {
    r.add(Verb::get, p, noop());
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(r.match(Verb::get, "/v1/podcasts/3f2a/audio?x=1"));
    benchmark::DoNotOptimize(r.match(Verb::get, "/health"));
  }
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_RouterMatch);

void BM_AccessLogLine(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(log::format_line(log::Level::kInfo, "request",
                                              {{"request_id", "0123456789abcdef0123456789abcdef"},
                                               {"method", "GET"},
                                               {"path", "/health"},
                                               {"route", "/health"},
                                               {"status", 200},
                                               {"duration_ms", 0.25},
                                               {"client_ip", "127.0.0.1"}},
                                              true));
  }
}
BENCHMARK(BM_AccessLogLine);

void BM_Multipart16KiB(benchmark::State& state) {
  const std::string boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
  std::string audio(16 * 1024, '\0');
  for (std::size_t i = 0; i < audio.size(); ++i) audio[i] = static_cast<char>((i * 131) & 0xFF);
  const std::string body =
      "--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"audio_data\"; filename=\"blob\"\r\n"
      "Content-Type: audio/ogg; codecs=opus\r\n\r\n" +
      audio + "\r\n--" + boundary + "--\r\n";
  for (auto _ : state) {
    auto parts = parse_multipart(body, boundary);
    benchmark::DoNotOptimize(parts);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_Multipart16KiB);

}  // namespace
}  // namespace scribepod::http

BENCHMARK_MAIN();
