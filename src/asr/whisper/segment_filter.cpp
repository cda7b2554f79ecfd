#include "asr/whisper/segment_filter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace scribepod::asr {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid
// (overlong forms, surrogates and values past U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Lower-case ASCII letters and digits, every other ASCII run collapsed to one
// space, non-ASCII bytes kept: "Thanks for watching!" -> "thanks for watching".
std::string normalise(std::string_view text) {
  std::string out;
  bool gap = false;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (is_ascii_alnum(c) || u >= 0x80) {
      if (gap && !out.empty()) out += ' ';
      gap = false;
      out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    } else {
      gap = true;
    }
  }
  return out;
}

// Phrases whisper is known to produce on silence or noise, normalised. The
// multilingual ones are the common subtitle credits in other languages.
constexpr std::array<std::string_view, 27> kHallucinations = {
    "thank you",
    "thank you very much",
    "thank you so much",
    "thanks",
    "thank you for watching",
    "thanks for watching",
    "thank you for listening",
    "thanks for listening",
    "please subscribe",
    "like and subscribe",
    "please like and subscribe",
    "subscribe to my channel",
    "see you next time",
    "see you in the next video",
    "bye",
    "bye bye",
    "goodbye",
    "you",
    "so",
    "oh",
    "okay",
    "the end",
    "blank audio",
    "silence",
    "продолжение следует",
    "ご視聴ありがとうございました",
    "thank you for your attention",
};

// Credits that can appear inside longer hallucinated lines.
constexpr std::array<std::string_view, 3> kHallucinationFragments = {
    "amara org",
    "subtitles by",
    "transcribed by",
};

}  // namespace

std::string clean_text(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    const std::size_t len = utf8_sequence_length(raw, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(raw.substr(i, len));
      i += len;
    }
  }
  const auto first = std::find_if_not(out.begin(), out.end(), is_space);
  const auto last = std::find_if_not(out.rbegin(), out.rend(), is_space).base();
  return first < last ? std::string(first, last) : std::string();
}

bool is_non_speech_text(std::string_view text) {
  // Strip annotations: [..], (..), *..* and everything between them.
  std::string rest;
  char closer = 0;
  for (const char c : text) {
    if (closer != 0) {
      if (c == closer) closer = 0;
      continue;
    }
    if (c == '[') {
      closer = ']';
    } else if (c == '(') {
      closer = ')';
    } else if (c == '*') {
      closer = '*';
    } else {
      rest += c;
    }
  }
  // Music notes (U+266A, U+266B) are how whisper marks music.
  for (const std::string_view note : {"\xE2\x99\xAA", "\xE2\x99\xAB"}) {
    for (std::size_t at = rest.find(note); at != std::string::npos; at = rest.find(note)) {
      rest.erase(at, note.size());
    }
  }
  return normalise(rest).empty();
}

bool is_silence_hallucination(std::string_view text) {
  const std::string n = normalise(text);
  if (n.empty()) return false;
  if (std::find(kHallucinations.begin(), kHallucinations.end(), n) != kHallucinations.end()) {
    return true;
  }
  return std::any_of(kHallucinationFragments.begin(), kHallucinationFragments.end(),
                     [&](std::string_view f) { return n.find(f) != std::string::npos; });
}

bool should_drop_segment(const SegmentEvidence& segment, const SegmentFilterParams& params) {
  if (is_non_speech_text(segment.text)) return true;
  // Comparisons with NaN (unknown) are false, so unknown evidence never drops.
  if (segment.no_speech_prob > params.no_speech_thold &&
      segment.avg_logprob < params.logprob_thold) {
    return true;
  }
  return is_silence_hallucination(segment.text) &&
         (segment.no_speech_prob >= params.hallucination_no_speech_prob ||
          segment.audio_dbfs < params.quiet_dbfs);
}

float rms_dbfs(const float* samples, std::size_t n) {
  if (n == 0) return -120.0F;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sum += static_cast<double>(samples[i]) * static_cast<double>(samples[i]);
  }
  const double rms = std::sqrt(sum / static_cast<double>(n));
  if (rms <= 1e-6) return -120.0F;
  return static_cast<float>(20.0 * std::log10(rms));
}

}  // namespace scribepod::asr
