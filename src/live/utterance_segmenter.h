// UtteranceSegmenter: the voice activity and endpointing stage. It turns a
// 16 kHz stream into utterances: SpeechStart, the utterance's audio as
// AudioFrames (contiguous, in order), then SpeechEnd.
//
// - Onset: an utterance opens when the VAD (audio/vad.h) commits to speech;
//   its audio starts `preroll` before the VAD's onset frame (never before
//   the previous utterance's end), so the first phonemes are not clipped.
// - Endpoint: it closes after a stretch of silence since the last active
//   speech frame. The stretch adapts to the latest partial text (see
//   required_silence()): short after a finished sentence, long after a
//   trailing conjunction or filler, so slow speakers are not cut off.
// - Forced split: an utterance reaching max_utterance is cut in the middle
//   of its quietest 10 ms frame in the last split_window; the audio after
//   the cut starts the next utterance at once. To make that possible without
//   sending audio twice, the last split_window before the limit is held back
//   until the cut is known. Every sample of an utterance goes out exactly
//   once, so no word is lost or duplicated at a split.
// - Pause: once per stretch of silence inside an utterance, when it reaches
//   pause_silence (shorter than any endpoint), a SpeechPause follows the
//   audio up to it, so the recogniser can settle the words so far while the
//   endpoint is still being waited for. If speech comes back before the
//   endpoint, a SpeechResume precedes the audio that holds it.
// - close() ends the open utterance now (end_of_turn, stop, shutdown).
//
// One segmenter serves one stream; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <span>
#include <string_view>
#include <vector>

#include "audio/vad.h"
#include "core/result.h"
#include "live/frames.h"

namespace scribepod::live {

struct SegmenterParams {
  std::chrono::milliseconds preroll{200};
  std::chrono::milliseconds endpoint_silence{500};
  std::chrono::milliseconds endpoint_min_silence{300};   // after . ? !
  std::chrono::milliseconds endpoint_max_silence{1200};  // after "and", "so", "um", ...
  // Silence inside an utterance that sends a SpeechPause; 0: never.
  std::chrono::milliseconds pause_silence{200};
  std::chrono::milliseconds max_utterance{30'000};
  // Where a forced split may fall: the last this-much before max_utterance
  // (at most half of max_utterance).
  std::chrono::milliseconds split_window{2000};
  audio::VadOptions vad = audio::VadOptions::default_options();

  static SegmenterParams default_params() { return {}; }
};

// The silence that ends an utterance whose latest text is `text`:
// endpoint_min_silence after sentence punctuation, endpoint_max_silence after
// a trailing conjunction or filler, endpoint_silence otherwise.
std::chrono::milliseconds required_silence(std::string_view text, const SegmenterParams& params);

class UtteranceSegmenter {
 public:
  // Fails with kInvalidConfig for bad VAD options or durations.
  static Result<UtteranceSegmenter> create(const SegmenterParams& params);

  // Appends audio; returns the frames it completed, in order.
  std::vector<SegmentFrame> process(std::span<const float> samples);

  // The latest partial text of the open utterance (adapts the endpoint).
  void set_latest_text(std::string_view text);

  // Ends the open utterance now with all audio received so far; nothing when
  // none is open.
  std::vector<SegmentFrame> close(EndReason reason);

  bool in_utterance() const { return in_utterance_; }
  int64_t samples_received() const { return total_; }

 private:
  struct FrameEnergy {
    int64_t index = 0;
    float energy_db = 0;
  };

  UtteranceSegmenter(SegmenterParams params, audio::VoiceActivityDetector vad);
  void open(int64_t start, std::vector<SegmentFrame>& out);
  void send_audio(int64_t until, std::vector<SegmentFrame>& out);
  void end(EndReason reason, int64_t end_sample, double wait_ms, std::vector<SegmentFrame>& out);
  void split(std::vector<SegmentFrame>& out);
  void trim();
  int64_t hold_limit() const;

  SegmenterParams params_;
  audio::VoiceActivityDetector vad_;
  int64_t preroll_samples_ = 0;
  int64_t max_samples_ = 0;
  int64_t window_samples_ = 0;

  std::deque<float> buffer_;  // audio from buffer_start_ to total_
  int64_t buffer_start_ = 0;
  int64_t total_ = 0;

  bool in_utterance_ = false;
  int64_t utt_start_ = 0;
  int64_t sent_until_ = 0;
  int64_t last_active_end_ = 0;
  int64_t last_close_ = 0;
  int64_t required_silence_samples_ = 0;
  int64_t pause_samples_ = 0;
  bool paused_ = false;               // a SpeechPause was sent for the current silence
  bool shrink_pending_ = false;       // an utterance ended: release its buffers
  std::deque<FrameEnergy> energies_;  // the open utterance's frames within the split window
};

}  // namespace scribepod::live
