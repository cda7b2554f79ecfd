// decode_audio: a whole uploaded file, in memory, to 16 kHz mono float.
//
// Accepted: WAV (integer PCM, float, mu-law/A-law), Ogg (Opus, Vorbis,
// FLAC), WebM/Matroska (Opus, Vorbis), MP3 (and MPEG layer I/II), FLAC, and
// raw PCM16 when the content type declares it. The container is judged from
// the bytes (see format.h); the declared type only matters for raw PCM, which
// has no magic. FFmpeg reads straight from the caller's buffer through a
// custom I/O context; nothing touches the disk. Channels are mixed down
// (layout-aware, averaged so the result never exceeds [-1, 1]) and the
// result resampled to 16 kHz; non-finite samples become 0.
//
// Errors:
//   kBadRequest           empty input, corrupt or truncated-to-nothing input,
//                         no audio stream; the message says what is wrong
//   kUnsupportedMediaType bytes of no accepted format, or an accepted
//                         container holding a codec we don't decode
//   kPayloadTooLarge      more bytes than max_input_bytes, or more audio than
//                         max_duration_s (decoding stops as soon as the limit
//                         is passed, so a 10-hour file costs no more than one
//                         just over the limit)
//
// Truncated input. Browsers' MediaRecorder chunks are often cut mid-page or
// mid-cluster, and the original page re-sends a growing Ogg/Opus file every
// second whose last page may be incomplete. Policy: once the container header
// is readable, whatever decodes is returned, and DecodeInfo::truncated says
// that the input ended early (or some packets were damaged and skipped).
// Only when no audio at all comes out is it an error. More than half of the
// packets failing to decode is treated as corruption, not truncation (400).
//
// Output length is exact: round(source samples * 16000 / source rate), so a
// few milliseconds of input still come out (libswresample alone drops them).
//
// Thread-safe: every call owns its FFmpeg objects. The only process state is
// set once, on the first call: FFmpeg's log level (quiet) and its cap on a
// single allocation (32 MB; demuxers otherwise allocate whatever a header
// claims).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "audio/format.h"
#include "audio/pcm.h"
#include "core/result.h"

namespace scribepod::audio {

struct DecodeLimits {
  double max_duration_s = 600;
  std::size_t max_input_bytes = std::size_t{64} << 20;
};

// What was found on the way, for logs and the verbose API responses.
struct DecodeInfo {
  AudioFormat format =
      AudioFormat::kUnknown;  // as judged from the bytes, or kRawPcm16 when declared
  std::string codec;          // FFmpeg's codec name: "opus", "pcm_s16le", ...
  int source_sample_rate = 0;
  int source_channels = 0;
  bool truncated = false;           // the input ended early or damaged packets were skipped
  std::size_t damaged_packets = 0;  // packets the decoder rejected
};

struct DecodedAudio {
  PcmAudio audio;
  DecodeInfo info;
};

Result<DecodedAudio> decode_audio_with_info(std::string_view bytes,
                                            std::string_view declared_content_type = {},
                                            const DecodeLimits& limits = {});

// The same, for callers that only want the samples.
Result<PcmAudio> decode_audio(std::string_view bytes, std::string_view declared_content_type = {},
                              const DecodeLimits& limits = {});

}  // namespace scribepod::audio
