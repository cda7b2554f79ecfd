#include "asr/whisper/whisper_results.h"

#include <whisper.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include "asr/whisper/segment_filter.h"

namespace scribepod::asr {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

float window_no_speech_prob(whisper_context* ctx, whisper_state* state, int threads) {
  const whisper_token sot = whisper_token_sot(ctx);
  if (whisper_decode_with_state(ctx, state, &sot, 1, 0, threads) != 0) return kNaN;
  const float* logits = whisper_get_logits_from_state(state);
  const int n = whisper_n_vocab(ctx);
  const float max = *std::max_element(logits, logits + n);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i] - max));
  const double nosp = std::exp(static_cast<double>(logits[whisper_token_nosp(ctx)] - max));
  return static_cast<float>(nosp / sum);
}

}  // namespace

double whisper_time_s(long long centiseconds, double limit_s) {
  return std::clamp(static_cast<double>(centiseconds) * 0.01, 0.0, limit_s);
}

std::vector<Word> whisper_segment_words(whisper_context* ctx, whisper_state* state, int segment,
                                        const Segment& bounds) {
  std::vector<Word> words;
  std::string raw;
  Word current;
  float p_sum = 0;
  int p_count = 0;
  const auto flush = [&] {
    std::string text = clean_text(raw);
    if (!text.empty() && p_count > 0) {
      current.text = std::move(text);
      current.probability = p_sum / static_cast<float>(p_count);
      words.push_back(current);
    }
    raw.clear();
    p_sum = 0;
    p_count = 0;
  };
  const auto in_bounds = [&](long long t) {
    return std::clamp(whisper_time_s(t, bounds.end_s), bounds.start_s, bounds.end_s);
  };
  const whisper_token eot = whisper_token_eot(ctx);
  const int n = whisper_full_n_tokens_from_state(state, segment);
  for (int k = 0; k < n; ++k) {
    const whisper_token_data d = whisper_full_get_token_data_from_state(state, segment, k);
    if (d.id >= eot) continue;  // special and timestamp tokens
    const char* piece = whisper_full_get_token_text_from_state(ctx, state, segment, k);
    const std::string_view text = piece != nullptr ? piece : "";
    if (!text.empty() && text.front() == ' ' && !raw.empty()) flush();
    if (raw.empty()) current.start_s = in_bounds(d.t0);
    raw += text;
    current.end_s = in_bounds(d.t1);
    p_sum += d.p;
    ++p_count;
  }
  flush();
  double floor_s = bounds.start_s;
  for (Word& w : words) {
    w.start_s = std::max(w.start_s, floor_s);
    w.end_s = std::max(w.end_s, w.start_s);
    floor_s = w.start_s;
  }
  return words;
}

float whisper_segment_avg_logprob(whisper_context* ctx, whisper_state* state, int segment) {
  const whisper_token eot = whisper_token_eot(ctx);
  double sum = 0;
  int count = 0;
  const int n = whisper_full_n_tokens_from_state(state, segment);
  for (int k = 0; k < n; ++k) {
    const whisper_token_data d = whisper_full_get_token_data_from_state(state, segment, k);
    if (d.id < eot) {
      sum += static_cast<double>(d.plog);
      ++count;
    }
  }
  return count > 0 ? static_cast<float>(sum / count) : kNaN;
}

void WhisperNoSpeechProbe::on_new_segments(whisper_context* ctx, whisper_state* state, int n_new,
                                           void* user_data) noexcept {
  auto* self = static_cast<WhisperNoSpeechProbe*>(user_data);
  try {
    const auto total = static_cast<std::size_t>(whisper_full_n_segments_from_state(state));
    const float p = window_no_speech_prob(ctx, state, self->threads_);
    self->per_segment_.resize(total, kNaN);
    const std::size_t fresh = std::min(total, static_cast<std::size_t>(std::max(0, n_new)));
    std::fill(self->per_segment_.end() - static_cast<std::ptrdiff_t>(fresh),
              self->per_segment_.end(), p);
  } catch (...) {  // nothing may unwind into whisper.cpp; the value stays unknown
  }
}

float WhisperNoSpeechProbe::at(int segment) const {
  const auto i = static_cast<std::size_t>(segment);
  return segment >= 0 && i < per_segment_.size() ? per_segment_[i] : kNaN;
}

}  // namespace scribepod::asr
