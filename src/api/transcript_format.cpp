#include "api/transcript_format.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace scribepod::api {

std::optional<TranscriptFormat> parse_transcript_format(std::string_view name) {
  if (name == "text") return TranscriptFormat::kText;
  if (name == "json") return TranscriptFormat::kJson;
  if (name == "verbose_json") return TranscriptFormat::kVerboseJson;
  if (name == "srt") return TranscriptFormat::kSrt;
  if (name == "vtt") return TranscriptFormat::kVtt;
  return std::nullopt;
}

std::string_view content_type_for(TranscriptFormat format) {
  switch (format) {
    case TranscriptFormat::kText:
      return "text/plain; charset=utf-8";
    case TranscriptFormat::kJson:
    case TranscriptFormat::kVerboseJson:
      return "application/json";
    case TranscriptFormat::kSrt:
      return "application/x-subrip; charset=utf-8";
    case TranscriptFormat::kVtt:
      return "text/vtt; charset=utf-8";
  }
  return "text/plain; charset=utf-8";
}

std::string subtitle_timestamp(double seconds, char millis_separator) {
  const auto total_ms = static_cast<long long>(std::llround(std::max(0.0, seconds) * 1000.0));
  return fmt::format("{:02}:{:02}:{:02}{}{:03}", total_ms / 3'600'000, (total_ms / 60'000) % 60,
                     (total_ms / 1000) % 60, millis_separator, total_ms % 1000);
}

namespace {

std::string subtitles(const asr::Transcript& t, bool vtt) {
  std::string out = vtt ? "WEBVTT\n\n" : "";
  int index = 1;
  for (const auto& seg : t.segments) {
    if (seg.text.empty()) continue;
    if (!vtt) out += fmt::format("{}\n", index);
    ++index;
    out += fmt::format("{} --> {}\n{}\n\n", subtitle_timestamp(seg.start_s, vtt ? '.' : ','),
                       subtitle_timestamp(seg.end_s, vtt ? '.' : ','), seg.text);
  }
  return out;
}

nlohmann::json verbose(const asr::Transcript& t) {
  nlohmann::json segments = nlohmann::json::array();
  nlohmann::json words = nlohmann::json::array();
  int id = 0;
  for (const auto& seg : t.segments) {
    segments.push_back(
        {{"id", id++}, {"start", seg.start_s}, {"end", seg.end_s}, {"text", seg.text}});
    for (const auto& w : seg.words) {
      words.push_back({{"word", w.text}, {"start", w.start_s}, {"end", w.end_s}});
    }
  }
  nlohmann::json out = {{"task", "transcribe"}, {"language", t.language}, {"duration", t.audio_s},
                        {"text", t.text},       {"segments", segments},   {"engine", t.engine}};
  if (!words.empty()) out["words"] = words;
  return out;
}

}  // namespace

std::string render_transcript(const asr::Transcript& t, TranscriptFormat format) {
  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
  switch (format) {
    case TranscriptFormat::kText:
      return t.text + "\n";
    case TranscriptFormat::kJson:
      return nlohmann::json{{"text", t.text}}.dump(-1, ' ', false, kReplace);
    case TranscriptFormat::kVerboseJson:
      return verbose(t).dump(-1, ' ', false, kReplace);
    case TranscriptFormat::kSrt:
      return subtitles(t, false);
    case TranscriptFormat::kVtt:
      return subtitles(t, true);
  }
  return t.text;
}

}  // namespace scribepod::api
