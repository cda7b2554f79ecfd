#include "live/utterance_segmenter.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace scribepod::live {
namespace {

constexpr int64_t kFrame = audio::kVadFrameSamples;

int64_t to_samples(std::chrono::milliseconds ms) {
  return ms.count() * (audio::kSampleRate / 1000);
}

// Words after which a speaker is likely to go on (PocketSphinx writes no
// punctuation, so these carry most of the adaptation).
constexpr std::array<std::string_view, 14> kContinuations = {
    "and", "so", "but", "because", "or", "um", "uh", "the", "a", "to", "er", "ah", "of", "with"};

}  // namespace

std::chrono::milliseconds required_silence(std::string_view text, const SegmenterParams& params) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  if (text.empty()) return params.endpoint_silence;
  const char last = text.back();
  if (last == '.' || last == '?' || last == '!') return params.endpoint_min_silence;
  std::size_t begin = text.size();
  while (begin > 0 && std::isspace(static_cast<unsigned char>(text[begin - 1])) == 0) --begin;
  std::string word(text.substr(begin));
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!word.empty() && (word.back() == ',' || word.back() == ';')) word.pop_back();
  for (std::string_view w : kContinuations) {
    if (word == w) return params.endpoint_max_silence;
  }
  return params.endpoint_silence;
}

Result<UtteranceSegmenter> UtteranceSegmenter::create(const SegmenterParams& params) {
  if (params.max_utterance.count() < 200 || params.preroll.count() < 0 ||
      params.endpoint_min_silence.count() <= 0 ||
      params.endpoint_silence < params.endpoint_min_silence ||
      params.endpoint_max_silence < params.endpoint_silence || params.split_window.count() < 0 ||
      params.pause_silence.count() < 0 || params.pause_silence >= params.endpoint_min_silence) {
    return Error::invalid_config(
        "live endpointing: need 0 < min_silence <= silence <= max_silence, 0 <= pause_silence < "
        "min_silence and max_utterance >= 200 ms");
  }
  auto vad = audio::VoiceActivityDetector::create(params.vad);
  if (!vad) return std::move(vad).take_error();
  return UtteranceSegmenter(params, std::move(vad).value());
}

UtteranceSegmenter::UtteranceSegmenter(SegmenterParams params, audio::VoiceActivityDetector vad)
    : params_(params), vad_(std::move(vad)) {
  preroll_samples_ = to_samples(params_.preroll);
  max_samples_ = to_samples(params_.max_utterance);
  window_samples_ = std::min(to_samples(params_.split_window), max_samples_ / 2);
  required_silence_samples_ = to_samples(params_.endpoint_silence);
  pause_samples_ = to_samples(params_.pause_silence);
}

void UtteranceSegmenter::set_latest_text(std::string_view text) {
  required_silence_samples_ = to_samples(required_silence(text, params_));
}

std::vector<SegmentFrame> UtteranceSegmenter::process(std::span<const float> samples) {
  buffer_.insert(buffer_.end(), samples.begin(), samples.end());
  total_ += static_cast<int64_t>(samples.size());
  std::vector<SegmentFrame> out;
  for (const audio::VadFrame& f : vad_.process(samples)) {
    const int64_t frame_start = f.index * kFrame;
    const int64_t frame_end = frame_start + kFrame;
    const bool active = f.speech && !f.hangover;
    if (!in_utterance_) {
      if (!active) continue;
      int64_t onset = vad_.speech_onset_frame() * kFrame;
      if (onset < 0 || onset > frame_start) onset = frame_start;
      const int64_t start = std::max({onset - preroll_samples_, buffer_start_, last_close_});
      open(start, out);
      last_active_end_ = frame_end;
    } else {
      energies_.push_back({f.index, f.energy_db});
      if (active) {
        last_active_end_ = frame_end;
        if (paused_) out.emplace_back(SpeechResume{sent_until_});
        paused_ = false;
      }
      const int64_t silence = frame_end - last_active_end_;
      if (!active && silence >= required_silence_samples_) {
        send_audio(frame_end, out);
        end(EndReason::kSilence, frame_end, static_cast<double>(silence) / 16.0, out);
        continue;
      }
      if (frame_end - utt_start_ >= max_samples_) split(out);
    }
    send_audio(std::min(frame_end, hold_limit()), out);
    if (in_utterance_ && pause_samples_ > 0 && !paused_ && !active &&
        frame_end - last_active_end_ >= pause_samples_) {
      paused_ = true;
      out.emplace_back(SpeechPause{sent_until_});
    }
  }
  trim();
  return out;
}

std::vector<SegmentFrame> UtteranceSegmenter::close(EndReason reason) {
  std::vector<SegmentFrame> out;
  if (!in_utterance_) return out;
  send_audio(total_, out);
  end(reason, total_, 0, out);
  trim();
  return out;
}

int64_t UtteranceSegmenter::hold_limit() const {
  return utt_start_ + max_samples_ - window_samples_;
}

void UtteranceSegmenter::open(int64_t start, std::vector<SegmentFrame>& out) {
  in_utterance_ = true;
  utt_start_ = start;
  sent_until_ = start;
  energies_.clear();
  required_silence_samples_ = to_samples(params_.endpoint_silence);
  paused_ = false;
  out.emplace_back(SpeechStart{start});
}

void UtteranceSegmenter::send_audio(int64_t until, std::vector<SegmentFrame>& out) {
  until = std::min(until, total_);
  if (!in_utterance_ || until <= sent_until_) return;
  const auto from = static_cast<std::size_t>(sent_until_ - buffer_start_);
  const auto to = static_cast<std::size_t>(until - buffer_start_);
  AudioFrame frame;
  frame.samples.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(from),
                       buffer_.begin() + static_cast<std::ptrdiff_t>(to));
  sent_until_ = until;
  out.emplace_back(std::move(frame));
}

void UtteranceSegmenter::end(EndReason reason, int64_t end_sample, double wait_ms,
                             std::vector<SegmentFrame>& out) {
  SpeechEnd e;
  e.reason = reason;
  e.end_sample = end_sample;
  e.speech_end_sample = std::clamp(last_active_end_, utt_start_, end_sample);
  e.endpoint_wait_ms = wait_ms;
  out.emplace_back(e);
  in_utterance_ = false;
  last_close_ = end_sample;
  energies_.clear();
  shrink_pending_ = true;
}

// Cuts at the middle of the quietest frame that starts inside the split
// window (the first such frame on a tie, so the cut is as early as it can be).
void UtteranceSegmenter::split(std::vector<SegmentFrame>& out) {
  const int64_t window_start = utt_start_ + max_samples_ - window_samples_;
  int64_t cut = -1;
  float quietest = 0;
  for (const FrameEnergy& fe : energies_) {
    const int64_t s = fe.index * kFrame;
    if (s < window_start || s + kFrame > total_) continue;
    if (cut < 0 || fe.energy_db < quietest) {
      quietest = fe.energy_db;
      cut = s + kFrame / 2;
    }
  }
  if (cut <= utt_start_) cut = std::min(total_, utt_start_ + max_samples_);
  send_audio(cut, out);
  const int64_t active_end = last_active_end_;
  end(EndReason::kMaxLength, cut, 0, out);
  open(cut, out);
  last_active_end_ = std::max(active_end, cut);
}

// While idle, only the pre-roll before the earliest onset the VAD could
// still report is kept (in a quiet room, just the pre-roll), so an idle
// stream holds little; in an utterance, what was not sent yet.
void UtteranceSegmenter::trim() {
  int64_t keep_from = vad_.earliest_possible_onset() * kFrame - preroll_samples_;
  if (in_utterance_) keep_from = sent_until_;
  keep_from = std::clamp(keep_from, buffer_start_, total_);
  buffer_.erase(buffer_.begin(),
                buffer_.begin() + static_cast<std::ptrdiff_t>(keep_from - buffer_start_));
  buffer_start_ = keep_from;
  // An utterance may have grown the deque's block map (the split window is
  // held back): give it back once the utterance is over.
  if (!in_utterance_ && shrink_pending_) {
    buffer_.shrink_to_fit();
    std::deque<FrameEnergy>().swap(energies_);
    shrink_pending_ = false;
  }
  if (in_utterance_) {
    const int64_t window_start = utt_start_ + max_samples_ - window_samples_;
    while (!energies_.empty() && energies_.front().index * kFrame < window_start - kFrame) {
      energies_.pop_front();
    }
  }
}

}  // namespace scribepod::live
