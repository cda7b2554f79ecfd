// The whisper.cpp recognizer.
//
// make_whisper_recognizer() checks the model file (whisper_model_file.h) and
// loads it once; every decode then borrows one of max_concurrent whisper
// states (each holds its own KV caches and compute buffers; all are created
// at start-up so memory is known and a bad setup fails early). A decode waits
// up to acquire_timeout for a free state, then fails with kUnavailable and a
// Retry-After hint. Each decode uses `threads` CPU threads, so the engine can
// keep threads x max_concurrent cores busy.
//
// Short audio is cheap: whisper's encoder always sees a 30 s window (1500
// frames, 50 per second) unless told otherwise, so transcribe() sets
// audio_ctx to the audio's length plus audio_ctx_padding frames; a 3 s
// utterance pays for about 4.3 s of encoder work instead of 30 s.
//
// Whisper invents text on silence ("Thank you."). Two guards here, and the
// caller should still gate with a VAD: input whose overall level is below
// silence_dbfs is not decoded at all, and every segment goes through the
// filter in segment_filter.h. That filter needs the probability of
// <|nospeech|> at the start of each 30 s window, which whisper.cpp 1.9.1
// reads from a logits row it never wrote whenever the prompt is longer than
// one token (multilingual models, an initial prompt; upstream PRs #3945 and
// #4068): garbage, sometimes inf. So the recognizer measures it itself, with
// one extra decoder step per window (from whisper's new-segment callback,
// while the window's encoder output is still in the state), and keeps
// whisper's internal no-speech skip only where whisper's own value is right.
//
// Segment and word times are seconds from the start of the audio, clamped to
// the audio and non-decreasing. Streaming buffers the utterance: partial()
// decodes the buffer so far with cheaper settings (one segment, no
// timestamps, no temperature fallback), returns the previous partial when
// there is no new audio or every state is busy, and is meant to be
// rate-limited by the caller; finalize() decodes the whole utterance once.
// A stream serves one caller at a time; the recognizer is thread-safe and
// streams may outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "asr/recognizer.h"
#include "asr/whisper/segment_filter.h"
#include "core/result.h"

namespace scribepod::asr {

// Facts about one whisper_full() call, for tests, benchmarks and debugging.
struct WhisperDecodeStats {
  int audio_ctx = 0;  // encoder frames used; 1500 is the full 30 s window
  double audio_s = 0;
  double decode_ms = 0;
  int segments = 0;             // segments whisper produced
  int dropped_segments = 0;     // of those, removed by the segment filter
  bool partial = false;         // a streaming partial rather than a final decode
  bool skipped_silent = false;  // below silence_dbfs: whisper was not run
};

struct WhisperParams {
  std::string model_path;
  int threads = 2;  // CPU threads per decode
  // Used when a request names no language. "auto" detects it (multilingual
  // models only; an English-only ".en" model always transcribes English).
  std::string language = "en";
  bool translate = false;  // to English; needs a multilingual model
  int max_concurrent = 1;  // whisper states = decodes that can run at once
  std::chrono::milliseconds acquire_timeout{10000};
  bool word_timestamps = false;  // for every request, not only those that ask
  int max_tokens = 0;            // per segment, 0 = no limit
  int max_segment_chars = 0;     // split segments longer than this, 0 = no limit
  bool adaptive_audio_ctx = true;
  // Off by default: with flash attention, whisper.cpp 1.9.1 attends to the
  // unmasked padding of its K/V buffers (rounded up to 256 frames), whose
  // contents are left over from the state's previous decodes, so a reduced
  // audio_ctx gives results that depend on request history (upstream
  // whisper.cpp PR #3941). Without it the attention covers exactly audio_ctx.
  bool flash_attn = false;
  int audio_ctx_padding = 64;    // encoder frames (20 ms each) after the audio
  float temperature_inc = 0.2F;  // fallback step when a decode fails; 0 = none
  bool suppress_blank = true;
  bool suppress_non_speech_tokens = true;
  float silence_dbfs = -60.0F;         // input quieter than this overall is not decoded
  SegmentFilterParams segment_filter;  // also whisper's no-speech and log-prob gates
  double max_stream_s = 300;           // a stream longer than this fails feed()
  // Called after every decode, on the decoding thread (so possibly from
  // several threads at once), before the decode's state is handed back.
  // Optional.
  std::function<void(const WhisperDecodeStats&)> on_decode;

  static WhisperParams default_params() { return {}; }
};

// Fails with kInvalidConfig when the model file is missing, unreadable or not
// a whisper.cpp model (the message names the path and the `scribepod models
// pull` command) or a parameter is out of range; kInternal when whisper.cpp
// cannot set up a state.
Result<std::unique_ptr<Recognizer>> make_whisper_recognizer(const WhisperParams& params);

// The encoder window for n_samples of 16 kHz audio: 50 frames per second,
// rounded up, plus padding, at most model_audio_ctx.
int whisper_audio_ctx_for(std::size_t n_samples, int padding, int model_audio_ctx);

}  // namespace scribepod::asr
