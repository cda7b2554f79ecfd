// Renders a Transcript in the formats of the OpenAI transcription API and
// the CLI: text, json ({"text"}), verbose_json (segments, words, duration,
// language), srt and vtt subtitles. One place, so `scribepod transcribe`
// and both HTTP endpoints agree byte for byte.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "asr/recognizer.h"

namespace scribepod::api {

enum class TranscriptFormat { kText, kJson, kVerboseJson, kSrt, kVtt };

// Parses "text", "json", "verbose_json", "srt" or "vtt".
std::optional<TranscriptFormat> parse_transcript_format(std::string_view name);
std::string_view content_type_for(TranscriptFormat format);
std::string render_transcript(const asr::Transcript& transcript, TranscriptFormat format);

// "00:01:02,345" (SRT) or "00:01:02.345" (VTT).
std::string subtitle_timestamp(double seconds, char millis_separator);

}  // namespace scribepod::api
