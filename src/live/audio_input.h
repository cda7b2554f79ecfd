// AudioInput: the first stage of the live pipeline. It checks a binary
// frame against the stream's `start` (encoding, rate) and decodes it to
// 16 kHz mono float: pcm16 (little-endian, whole samples) or one raw Opus
// packet per frame, then a streaming Resampler (audio/resampler.h) whose
// filter state carries across frames, so frame boundaries leave no trace.
//
// measure_audio_frame() is cheap and runs where the frame arrives (for admission: frame
// size, rate limit, backlog); decode() does the work on the compute pool.
// One AudioInput serves one stream; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "audio/resampler.h"
#include "core/result.h"
#include "live/opus_packet_decoder.h"
#include "live/stream_protocol.h"

namespace scribepod::live {

// The audio a frame holds, in milliseconds. kPayloadTooLarge over
// `max_frame_bytes`, kBadRequest for an empty frame, a partial sample or an
// Opus packet whose header is malformed. Cheap; thread-safe.
Result<double> measure_audio_frame(AudioEncoding encoding, int sample_rate,
                                   std::span<const uint8_t> bytes, std::size_t max_frame_bytes);

class AudioInput {
 public:
  // kBadRequest for a rate outside 8..48 kHz; kInternal when a codec or the
  // resampler cannot be set up.
  static Result<AudioInput> create(AudioEncoding encoding, int sample_rate);

  // Decodes a frame (already measured) and appends 16 kHz samples to `out`.
  Status decode(std::span<const uint8_t> bytes, std::vector<float>& out);

  // The samples still inside the resampler's filter (end of stream).
  Status flush(std::vector<float>& out);

  AudioEncoding encoding() const { return encoding_; }
  int sample_rate() const { return sample_rate_; }

 private:
  AudioInput(AudioEncoding encoding, int sample_rate, audio::Resampler resampler,
             std::optional<OpusPacketDecoder> opus);

  AudioEncoding encoding_;
  int sample_rate_;
  audio::Resampler resampler_;
  std::optional<OpusPacketDecoder> opus_;
};

}  // namespace scribepod::live
