// PsDecoder: one PocketSphinx decoder plus its own copy of the front end,
// for one thread at a time (the pool hands it out).
//
// Why our own front end: PocketSphinx's voice-activity detector drops silent
// frames before the search, so the frame numbers it reports are "speech
// time", not audio time. We compute the cepstra ourselves with the same
// sphinxbase front end and configuration, remember each kept frame's real
// index, and feed the search with ps_process_cep(); results are identical to
// ps_process_raw() (checked on the whole test set) and timestamps are true.
// The cepstra are also what a stream keeps to re-decode the utterance at the
// end, 52 bytes per 10 ms instead of the audio.
//
// Every utterance starts from the same state (front-end noise statistics are
// reset and batch CMN is restored after a stream switched it to live CMN), so
// a decoder gives the same words for the same audio whatever it did before.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "asr/pocketsphinx/pocketsphinx_recognizer.h"
#include "core/result.h"

namespace scribepod::asr::ps {

struct PsWord {
  std::string text;  // filler-free, alternate-pronunciation suffix removed
  double start_s = 0;
  double end_s = 0;
  float probability = 0;  // posterior 0..1 (needs bestpath, and asked for; else 0)
};

class PsDecoder {
 public:
  // Builds the decoder; the model files must already have been checked.
  static Result<std::unique_ptr<PsDecoder>> create(const PocketSphinxParams& params);
  ~PsDecoder();
  PsDecoder(const PsDecoder&) = delete;
  PsDecoder& operator=(const PsDecoder&) = delete;

  // Batch: decodes the whole utterance in one pass. `probabilities` false:
  // PsWord::probability stays 0 (saves a pass over the word lattice).
  Result<std::vector<PsWord>> decode(std::span<const float> samples, bool probabilities = true);

  // Streaming: begin, feed audio as it comes (searched at once), read the
  // partial hypothesis, then finish: ends the live search and re-decodes the
  // buffered utterance in one batch pass. The live search normalises each
  // frame with a running cepstral mean that has to start from a seed.
  struct StreamStart {
    // Seeds the live running cepstral mean; empty: the model's initial value.
    std::vector<float> cmn_mean;
    // Once `restart_frames` frames of speech are in, the live search
    // restarts from their own mean and re-searches them. 0: never.
    std::size_t restart_frames = 0;
    // Then once more at `second_restart_frames` (> restart_frames; 0:
    // never), from the mean of the longer stretch of speech.
    std::size_t second_restart_frames = 0;
    // Decoders with a fast search (stream_fwdflat_max_ms >= 0): a segment
    // (the stream since its start or its last settle) moves to it, with a
    // restart, once it has this many frames of speech (0: starts on it).
    // Until then it uses the batch search.
    std::size_t fast_after_frames = 0;
    // Whether words get their posterior probability (as in decode()).
    bool probabilities = true;
  };
  Status begin_stream(const StreamStart& start);
  Status feed(std::span<const float> samples);
  std::string partial_text();
  // The speaker paused: ends the live search's current segment here and
  // keeps its words, then goes on with a new segment that starts from the
  // mean of all the speech so far. finish_stream() then has only the audio
  // since the last settle left to finish. A pause is a word boundary, so
  // nothing is cut; the language model starts a new sentence at each
  // settle. With PocketSphinxParams::background_search the segment's
  // end-of-utterance passes run on a thread of their own and this returns
  // at once; the next segment is searched on the other handle, or, while
  // both are busy, as soon as one is free (its audio waits meanwhile).
  // Without it, the passes run here.
  Status settle_stream();
  // Segments settled in the current (or last) stream, and of those, the
  // ones finished in the background (PocketSphinxParams::background_search).
  std::size_t settles() const;
  std::size_t background_settles() const;
  // Restarts (live_restarts(), and moves to the fast search) whose re-search
  // ran in the background on the second handle.
  std::size_t background_restarts() const;
  // Whether the second handle is built, waiting up to `timeout` for a build
  // in progress (the first begin_stream() starts it).
  bool wait_for_second_handle(std::chrono::milliseconds timeout);
  // `redecode` false: skip the batch pass and return the live search's
  // result (about half the work; the live result is only as good as its
  // running mean).
  Result<std::vector<PsWord>> finish_stream(bool redecode = true);
  // Ends a stream without a result (the caller went away).
  void abort_stream();
  // Times the live search was restarted in the last stream (0, 1 or 2).
  std::size_t live_restarts() const;
  // Seconds of audio the voice-activity detector has kept in this (or the
  // last) utterance: what a batch re-decode of it would have to search.
  double speech_seconds() const;
  // The live search's last partial of the last finished stream, kept for
  // measurements (how good the streamed text was before the re-decode).
  const std::string& last_live_text() const { return last_live_text_; }

  // Mean cepstrum of the frames of the last utterance (empty when no frame
  // passed the voice-activity detector): what a warm stream starts from.
  std::vector<float> utterance_mean() const;

 private:
  struct Impl;
  explicit PsDecoder(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  std::vector<float> model_cmn_;  // the acoustic model's initial CMN vector
  std::string last_live_text_;
};

// Word text as PocketSphinx reports it -> what we show: "" for fillers
// (<s>, </s>, <sil>, [NOISE], ...), "read(2)" -> "read".
std::string clean_word(std::string_view word);

}  // namespace scribepod::asr::ps
