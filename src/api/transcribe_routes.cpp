#include "api/transcribe_routes.h"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "api/transcript_format.h"
#include "http/blocking.h"

namespace scribepod::api {

using http::Context;
using http::Request;
using http::Response;

Result<std::vector<http::MultipartPart>> parse_upload(const Request& req,
                                                      std::size_t max_file_bytes) {
  const auto ct = req.find(http::beast_http::field::content_type);
  if (ct == req.end()) {
    return Error::bad_request("expected a multipart/form-data body; Content-Type is missing");
  }
  auto boundary = http::multipart_boundary(ct->value());
  if (!boundary) {
    const std::string_view type = ct->value();
    if (type.substr(0, 10) != "multipart/") {
      return Error::unsupported(
          fmt::format("expected multipart/form-data, got {}", type.substr(0, 100)));
    }
    return std::move(boundary).take_error();
  }
  http::MultipartLimits limits;
  limits.max_part_bytes = max_file_bytes;
  return http::parse_multipart(req.body(), *boundary, limits);
}

bool wants_json(const Request& req) {
  const auto accept = req.find(http::beast_http::field::accept);
  return accept != req.end() && accept->value().find("application/json") != std::string_view::npos;
}

namespace {

std::string_view field_text(const std::vector<http::MultipartPart>& parts, std::string_view name) {
  const auto* p = http::find_part(parts, name);
  return p == nullptr ? std::string_view{} : p->data;
}

Result<float> parse_temperature(std::string_view text) {
  if (text.empty()) return 0.0F;
  float v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < 0.0F || v > 1.0F) {
    return Error::bad_request(
        fmt::format("temperature must be a number from 0 to 1, got \"{}\"", text.substr(0, 32)));
  }
  return v;
}

}  // namespace

void add_transcribe_routes(http::Router& router, TranscribeDeps deps) {
  auto shared = std::make_shared<TranscribeDeps>(std::move(deps));

  router.add(
      http::Verb::post, "/transcribe",
      [shared](Request& req, Context&) -> boost::asio::awaitable<Result<Response>> {
        auto parts = parse_upload(req, shared->max_file_bytes);
        if (!parts) co_return std::move(parts).take_error();
        const auto* audio = http::find_part(*parts, "audio_data");
        if (audio == nullptr) {
          co_return Error::bad_request("missing multipart field \"audio_data\"");
        }
        asr::TranscribeOptions opts;
        opts.language = shared->default_language;
        const std::string_view data = audio->data;
        const std::string type = audio->content_type;
        auto result = co_await http::run_blocking(
            *shared->pool, [&] { return shared->transcriber->transcribe_bytes(data, type, opts); });
        if (!result) co_return std::move(result).take_error();
        const auto format =
            wants_json(req) ? TranscriptFormat::kVerboseJson : TranscriptFormat::kText;
        co_return http::make_response(req, http::StatusCode::ok, render_transcript(*result, format),
                                      content_type_for(format));
      });

  router.add(
      http::Verb::post, "/v1/audio/transcriptions",
      [shared](Request& req, Context&) -> boost::asio::awaitable<Result<Response>> {
        auto parts = parse_upload(req, shared->max_file_bytes);
        if (!parts) co_return std::move(parts).take_error();
        const auto* file = http::find_part(*parts, "file");
        if (file == nullptr) co_return Error::bad_request("missing multipart field \"file\"");

        const std::string_view format_name = field_text(*parts, "response_format");
        const auto format = parse_transcript_format(format_name.empty() ? "json" : format_name);
        if (!format) {
          co_return Error::bad_request(fmt::format(
              "response_format must be json, text, verbose_json, srt or vtt, got \"{}\"",
              format_name.substr(0, 32)));
        }
        auto temperature = parse_temperature(field_text(*parts, "temperature"));
        if (!temperature) co_return std::move(temperature).take_error();

        asr::TranscribeOptions opts;
        opts.language = std::string(field_text(*parts, "language"));
        if (opts.language.empty()) opts.language = shared->default_language;
        opts.prompt = std::string(field_text(*parts, "prompt"));
        opts.temperature = *temperature;
        for (const auto& p : *parts) {
          if ((p.name == "timestamp_granularities[]" || p.name == "timestamp_granularities") &&
              p.data == "word") {
            opts.word_timestamps = true;
          }
        }
        const std::string_view data = file->data;
        const std::string type = file->content_type;
        auto result = co_await http::run_blocking(
            *shared->pool, [&] { return shared->transcriber->transcribe_bytes(data, type, opts); });
        if (!result) co_return std::move(result).take_error();
        co_return http::make_response(req, http::StatusCode::ok,
                                      render_transcript(*result, *format),
                                      content_type_for(*format));
      });
}

}  // namespace scribepod::api
