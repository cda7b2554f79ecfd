// VoiceActivityDetector: finds speech in a 16 kHz mono stream, 10 ms at a time.
//
// Feed audio in chunks of any size with process(); it returns one VadFrame for
// every 10 ms frame (160 samples) the chunk completed, so the decisions do not
// depend on how the stream was cut. A frame counts as speech only when three
// independent checks agree, because each alone is fooled by something:
//   - the WebRTC VAD (libwebrtc-audio-processing) says "voice" (it also says so
//     for pink noise);
//   - the level (frame energy averaged over 30 ms) is energy_threshold_db
//     above an adaptive noise floor (a low percentile of the recent level)
//     and above min_energy_dbfs;
//   - for the start of an utterance, the frame is periodic: the whitened
//     signal below 1 kHz repeats at some pitch period between 60 and 400 Hz
//     (voiced speech does, stationary noise of any colour does not).
// An utterance starts once start_min_frames of the last start_window_frames
// frames passed all three; it goes on while frames pass the first two, are
// within speech_range_db of the utterance's level, and a periodic frame was
// seen within max_unvoiced_frames; then it lasts hangover_frames more.
//
// The detector commits a few frames after speech begins, so those first
// frames are reported as non-speech; speech_onset_frame() says where the
// current utterance really began, and a streaming caller should keep at least
// start_window_frames + onset_lookback_frames frames of pre-roll. One detector
// serves one stream and is not thread-safe; detectors are independent.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "audio/pcm.h"
#include "core/result.h"

namespace scribepod::audio {

inline constexpr int kVadFrameSamples = 160;  // 10 ms at kSampleRate

struct VadOptions {
  // WebRTC VAD aggressiveness, 0 (flags the most as voice) .. 3 (the least);
  // maps to VoiceDetection::Likelihood kHigh .. kVeryLow.
  int aggressiveness = 1;
  // The level must exceed the adaptive noise floor by this much (dB) ...
  float energy_threshold_db = 6.0F;
  // ... and this absolute level (dBFS; a full-scale sine is -3 dBFS).
  float min_energy_dbfs = -55.0F;
  // The noise floor is a low percentile of the level over this window.
  int noise_floor_window_frames = 200;
  // Minimum normalised autocorrelation of the whitened signal at a pitch lag
  // for a frame to count as voiced; 0 switches the periodicity check off.
  float periodicity_threshold = 0.5F;
  // Start an utterance when start_min_frames of the last start_window_frames
  // frames were voiced.
  int start_window_frames = 10;
  int start_min_frames = 3;
  // Inside an utterance, unvoiced frames (fricatives, stops) keep it going
  // for at most this many frames after the last voiced one.
  int max_unvoiced_frames = 40;
  // Inside an utterance, frames more than this far below its peak level
  // (decaying 3 dB/s) no longer keep it going: breath, clicks, reverberation.
  float speech_range_db = 25.0F;
  // Frames still reported as speech after the last active frame.
  int hangover_frames = 20;
  // speech_onset_frame() reaches back over at most this many frames that
  // passed the energy and WebRTC checks just before the first voiced frame
  // (an initial consonant or a breathy start).
  int onset_lookback_frames = 30;

  static VadOptions default_options() { return {}; }
};

struct VadFrame {
  std::int64_t index = 0;  // frame number since the start of the stream
  bool speech = false;
  // True when the frame is speech only because of the hangover after the
  // last active frame (so the utterance's audible end is before it).
  bool hangover = false;
  // Frame energy in dBFS after the detector's 70 Hz high-pass (DC and rumble
  // do not count); -120 for digital silence.
  float energy_db = 0.0F;
};

class VoiceActivityDetector {
 public:
  // Fails with kInvalidConfig when an option is out of range, kInternal when
  // the WebRTC detector cannot be set up.
  static Result<VoiceActivityDetector> create(const VadOptions& options = {});

  VoiceActivityDetector(VoiceActivityDetector&&) noexcept;
  VoiceActivityDetector& operator=(VoiceActivityDetector&&) noexcept;
  ~VoiceActivityDetector();

  // Appends 16 kHz mono samples in [-1, 1] (louder ones are clipped, NaN and
  // infinities count as silence); returns a decision for each frame completed
  // by this chunk (none when the chunk did not complete a frame).
  std::vector<VadFrame> process(std::span<const float> samples);

  // True while an utterance is open (the last frame was speech).
  bool in_speech() const;
  // First frame of the current (or most recent) utterance: the first voiced
  // frame that led to its start, moved back over the active frames just
  // before it (see onset_lookback_frames); -1 before any utterance.
  std::int64_t speech_onset_frame() const;
  // Frames decided so far.
  std::int64_t frames_processed() const;
  // The earliest frame that the speech_onset_frame() of an utterance not yet
  // started could report, given the frames decided so far: a streaming caller
  // needs no audio before it (apart from its own pre-roll). While an
  // utterance is open, its onset.
  std::int64_t earliest_possible_onset() const;

 private:
  struct Impl;
  explicit VoiceActivityDetector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct SpeechRegion {
  double start_s = 0;
  double end_s = 0;
};

struct SpeechRegionOptions {
  double merge_gap_s = 0.3;   // regions closer than this become one
  double pad_s = 0.1;         // added before and after each region (clamped to the audio)
  double min_speech_s = 0.1;  // shorter regions (before padding) are dropped

  static SpeechRegionOptions default_options() { return {}; }
};

// Batch use: the speech regions of a whole recording, in order, without
// overlap. Each region runs from its utterance's onset to its last active
// frame (the hangover is not included), then is merged and padded. Fails with
// kInvalidConfig for bad options.
Result<std::vector<SpeechRegion>> speech_regions(const PcmAudio& audio, const VadOptions& vad = {},
                                                 const SpeechRegionOptions& regions = {});

// True when speech_regions() finds at least one region.
Result<bool> has_speech(const PcmAudio& audio, const VadOptions& vad = {});

}  // namespace scribepod::audio
