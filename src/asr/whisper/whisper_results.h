// Reading whisper.cpp's results out of a state after (or during) a decode.
//
// Times here are seconds, clamped to the bounds given: whisper's token times
// are estimates and can run past the audio. Text goes through clean_text()
// (segment_filter.h), because whisper's tokens can split a UTF-8 character.
#pragma once

#include <vector>

#include "asr/recognizer.h"

struct whisper_context;
struct whisper_state;

namespace scribepod::asr {

// whisper's time unit (10 ms) to seconds, clamped to [0, limit_s].
double whisper_time_s(long long centiseconds, double limit_s);

// The words of one segment: a token that starts with a space starts a new
// word, others (the rest of a word, punctuation) extend it. Each word's
// probability is the mean of its tokens'. Times lie within the segment's and
// do not decrease.
std::vector<Word> whisper_segment_words(whisper_context* ctx, whisper_state* state, int segment,
                                        const Segment& bounds);

// Mean log-probability of a segment's text tokens; NaN when it has none.
float whisper_segment_avg_logprob(whisper_context* ctx, whisper_state* state, int segment);

// Measures, for every segment whisper emits, the probability of <|nospeech|>
// at the start-of-transcript position of the segment's 30 s window (OpenAI's
// definition; whisper.cpp 1.9.1's own value reads an unwritten logits row
// when the prompt has more than one token). Install on_new_segments as the
// decode's new_segment_callback with the probe as its user data: whisper.cpp
// calls it right after a window's segments are made, while the state still
// holds that window's encoder output, and one decoder step on
// <|startoftranscript|> measures it. That step reuses the state's
// self-attention cache and logits, which whisper_full() resets before it
// uses them again.
class WhisperNoSpeechProbe {
 public:
  explicit WhisperNoSpeechProbe(int threads) : threads_(threads) {}

  static void on_new_segments(whisper_context* ctx, whisper_state* state, int n_new,
                              void* user_data) noexcept;

  // The probability for segment i of the decode; NaN when unknown.
  float at(int segment) const;

 private:
  int threads_;
  std::vector<float> per_segment_;
};

}  // namespace scribepod::asr
