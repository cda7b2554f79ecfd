// Recognizer: speech to text, one interface for batch and streaming use.
//
// Batch: transcribe() takes a whole utterance or file. Streaming: open a
// RecognizerStream, feed() 16 kHz mono frames as they arrive, read partial()
// text at any time, and finalize() once at the end of the utterance for the
// final text. Engines (whisper.cpp, PocketSphinx, a remote OpenAI-compatible
// server) implement it; nothing outside asr/ includes an engine header.
//
// Implementations are thread-safe: many requests may call transcribe() and
// open streams concurrently; an engine bounds its own concurrency (decoder
// pools, whisper states) and waits or fails with kUnavailable when full.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "audio/pcm.h"
#include "core/result.h"

namespace scribepod::asr {

struct Word {
  std::string text;
  double start_s = 0;
  double end_s = 0;
  float probability = 0;  // 0..1 when the engine provides it
};

struct Segment {
  std::string text;
  double start_s = 0;
  double end_s = 0;
  std::vector<Word> words;  // filled when word timestamps were asked for
};

struct Transcript {
  std::string text;  // the whole text, segments joined by spaces; "" for no speech
  std::vector<Segment> segments;
  std::string language;  // as detected or requested ("en")
  std::string engine;    // "pocketsphinx", "whisper", "remote"
  double audio_s = 0;    // seconds of audio recognised
  double decode_ms = 0;  // wall time spent in the engine
};

struct TranscribeOptions {
  std::string language;  // "" = the engine's default / auto-detect
  bool word_timestamps = false;
  std::string prompt;        // initial prompt (whisper, remote)
  float temperature = 0.0F;  // sampling temperature (whisper, remote)
  // How long to wait for a free decoder when the engine is at capacity;
  // unset = the engine's own acquire timeout. A caller that must not block
  // (the live pipeline, which shares its threads with the streams holding
  // the decoders) passes 0 and retries on kUnavailable. Engines that hold
  // no decoder between calls (whisper, remote) ignore it in open_stream().
  std::optional<std::chrono::milliseconds> max_wait;
};

class RecognizerStream {
 public:
  virtual ~RecognizerStream() = default;
  // Appends audio (16 kHz mono float).
  virtual Status feed(std::span<const float> samples) = 0;
  // Best-effort text of the utterance so far; cheap to call repeatedly.
  virtual Result<std::string> partial() = 0;
  // The speaker paused inside the utterance (the caller's voice-activity
  // detector saw a short silence; more speech may follow). An engine may
  // settle the text so far now, so that little work is left for finalize().
  // Optional: by default nothing happens.
  virtual Status settle() { return {}; }
  // Ends the utterance and returns the final transcript. Call once.
  virtual Result<Transcript> finalize() = 0;
};

class Recognizer {
 public:
  virtual ~Recognizer() = default;
  virtual std::string name() const = 0;  // "pocketsphinx", "whisper", "remote"
  // Human-readable detail for /health and /ready, e.g. the model path.
  virtual std::string describe() const = 0;
  // Whether the engine can serve now; `detail` says why not (a remote
  // engine's circuit may be open). In-process engines are ready once loaded.
  virtual bool ready(std::string& detail) const {
    detail = describe();
    return true;
  }
  virtual Result<Transcript> transcribe(const audio::PcmAudio& audio,
                                        const TranscribeOptions& options) = 0;
  virtual Result<std::unique_ptr<RecognizerStream>> open_stream(
      const TranscribeOptions& options) = 0;
};

}  // namespace scribepod::asr
