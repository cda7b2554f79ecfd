// Transcriber: the batch path from uploaded bytes to a transcript.
//
//   bytes ─► decode_audio (16 kHz mono, limits) ─► voice activity gate ─►
//   Recognizer::transcribe
//
// The gate is what keeps silence and noise from becoming words: when the
// detector finds no speech, the recogniser is not called and the transcript
// is empty (whisper is known to say "Thank you." to silence). Recordings
// longer than `split_above_s` are recognised one speech region at a time,
// with timestamps shifted back onto the recording's clock, so silence costs
// nothing and callers can report progress. Used by
// POST /transcribe, POST /v1/audio/transcriptions, the conversation flow and
// `scribepod transcribe`.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "asr/recognizer.h"
#include "audio/decoder.h"

namespace scribepod::asr {

struct TranscriberOptions {
  audio::DecodeLimits limits;
  bool vad_gate = true;         // skip the recogniser when no speech is found
  double split_above_s = 30.0;  // longer audio is recognised region by region
};

// Seconds of audio done so far, of the total.
using TranscribeProgress = std::function<void(double done_s, double total_s)>;

class Transcriber {
 public:
  Transcriber(std::shared_ptr<Recognizer> recognizer, TranscriberOptions options);

  Result<Transcript> transcribe_bytes(std::string_view bytes, std::string_view content_type,
                                      const TranscribeOptions& options) const;
  Result<Transcript> transcribe_pcm(const audio::PcmAudio& audio, const TranscribeOptions& options,
                                    const TranscribeProgress& progress = {}) const;

  Recognizer& recognizer() const { return *recognizer_; }
  const TranscriberOptions& options() const { return options_; }

 private:
  std::shared_ptr<Recognizer> recognizer_;
  TranscriberOptions options_;
};

}  // namespace scribepod::asr
