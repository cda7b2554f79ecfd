// OpusPacketDecoder: raw Opus packets (RFC 6716, one per WebSocket frame, as
// WebCodecs' AudioEncoder produces them) to mono float at 48 kHz, with
// libavcodec's built-in opus decoder (FFmpeg is already linked for
// audio/decoder). Decoder state carries across packets, as Opus requires.
// One decoder serves one stream; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/result.h"

namespace scribepod::live {

// The audio length a packet declares in its TOC byte(s), in 48 kHz samples;
// kBadRequest for a packet too short or malformed to say.
Result<int> opus_packet_samples_48k(std::span<const uint8_t> packet);

class OpusPacketDecoder {
 public:
  static constexpr int kOutputRate = 48000;

  // kInternal when libavcodec has no opus decoder.
  static Result<OpusPacketDecoder> create();

  OpusPacketDecoder(OpusPacketDecoder&&) noexcept;
  OpusPacketDecoder& operator=(OpusPacketDecoder&&) noexcept;
  ~OpusPacketDecoder();

  // Decodes one packet and appends its samples (downmixed to mono) to `out`;
  // kBadRequest for a packet the decoder rejects.
  Status decode(std::span<const uint8_t> packet, std::vector<float>& out);

 private:
  struct Impl;
  explicit OpusPacketDecoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace scribepod::live
