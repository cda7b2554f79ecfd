// What to keep of whisper's raw segments: text clean-up and the silence guard.
//
// Whisper was trained on subtitles, so on silence, music or noise it tends to
// "hear" what subtitles end with ("Thank you.", "Thanks for watching!",
// "Subtitles by the Amara.org community") or writes annotations such as
// "[BLANK_AUDIO]" and "(music)". The live pipeline gates audio with a voice
// activity detector first; this is the second line. A segment is dropped when
//   - its text, cleaned, has no letters or digits, or is only an annotation
//     in brackets, parentheses, asterisks or music notes;
//   - its window looked like no speech by OpenAI's rule: the probability of
//     <|nospeech|> at the start-of-transcript position above no_speech_thold
//     while the decode was unsure (mean token log-probability below
//     logprob_thold);
//   - its text is a known silence hallucination and its window looked like
//     silence: no-speech probability at least hallucination_no_speech_prob,
//     or the segment's audio quieter than quiet_dbfs.
// So a clearly spoken "thank you" is kept; one over near-silence is not.
// Token text from whisper can split a UTF-8 character between tokens or
// segments; clean_text() repairs what it is given to valid UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace scribepod::asr {

struct SegmentFilterParams {
  float no_speech_thold = 0.6F;  // OpenAI whisper's defaults
  float logprob_thold = -1.0F;
  float hallucination_no_speech_prob = 0.3F;
  float quiet_dbfs = -45.0F;
};

struct SegmentEvidence {
  std::string_view text;        // cleaned (see clean_text)
  float no_speech_prob = 0.0F;  // NaN when unknown
  float avg_logprob = 0.0F;     // mean log-probability of its tokens; NaN when unknown
  float audio_dbfs = 0.0F;      // RMS level of the segment's audio
};

// Valid UTF-8 (each invalid byte becomes U+FFFD), whitespace trimmed at both ends.
std::string clean_text(std::string_view raw);

// True for text made only of an annotation or punctuation: "[BLANK_AUDIO]",
// "(upbeat music)", "*sighs*", "♪", "...", "".
bool is_non_speech_text(std::string_view text);

// True when the text is one of the phrases whisper produces on silence.
bool is_silence_hallucination(std::string_view text);

bool should_drop_segment(const SegmentEvidence& segment, const SegmentFilterParams& params);

// RMS level in dBFS of samples in [-1, 1]; -120 for digital silence or none.
float rms_dbfs(const float* samples, std::size_t n);

}  // namespace scribepod::asr
