// libFuzzer target for the audio decoder (audio/decoder.h) and the format
// helpers it relies on (audio/format.h).
//
// Input layout: one flags byte, then the bytes to decode. The low three bits
// of the flags pick the declared content type from a fixed table (none, a
// container type, several raw PCM declarations), so mutations reach both the
// sniffed-container path and the raw PCM path. Seeds live in
// fuzz/corpus/audio_decode/: tiny clips of every accepted format, each with a
// leading flags byte.
//
// A 2 s duration limit keeps each run short. Besides the sanitizers, it
// checks the decoder's contract: errors are 400, 413 or 415 with a message;
// success means non-empty, finite samples in [-1, 1], no longer than the
// limit, and a known format.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audio/decoder.h"
#include "audio/format.h"

namespace {

using scribepod::ErrorCode;
namespace audio = scribepod::audio;

void check(bool condition) {
  if (!condition) std::abort();
}

constexpr std::string_view kDeclared[] = {
    "",
    "audio/ogg; codecs=opus",
    "audio/webm",
    "audio/L16; rate=16000; channels=1",
    "audio/pcm;rate=8000;channels=2",
    "audio/L16; rate=44100; channels=3; endianness=little-endian",
    "audio/x-raw; rate=1000",
    "audio/pcm; rate=bad",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view declared = kDeclared[static_cast<std::uint8_t>(input[0]) & 7];
  const std::string_view bytes = input.substr(1);

  // The pure helpers must hold up on anything.
  const audio::AudioFormat sniffed = audio::sniff_format(bytes);
  check(sniffed != audio::AudioFormat::kRawPcm16);
  (void)audio::sniff_is_strong(bytes);
  (void)audio::looks_cut_short(bytes, sniffed);
  check(!audio::describe_unknown(bytes).empty());
  (void)audio::parse_content_type(bytes.substr(0, 200));

  audio::DecodeLimits limits;
  limits.max_duration_s = 2;
  limits.max_input_bytes = 1 << 20;
  auto decoded = audio::decode_audio_with_info(bytes, declared, limits);
  if (!decoded.ok()) {
    const ErrorCode code = decoded.error().code;
    check(code == ErrorCode::kBadRequest || code == ErrorCode::kUnsupportedMediaType ||
          code == ErrorCode::kPayloadTooLarge);
    check(!decoded.error().message.empty());
    return 0;
  }
  const audio::PcmAudio& pcm = decoded->audio;
  check(!pcm.samples.empty());
  // The limit counts source samples; the resampler's tail may add a few.
  check(pcm.duration_s() <= limits.max_duration_s + 0.01);
  for (float v : pcm.samples) check(std::isfinite(v) && v >= -1.0F && v <= 1.0F);
  check(decoded->info.format != audio::AudioFormat::kUnknown);
  check(decoded->info.source_sample_rate > 0 && decoded->info.source_channels > 0);
  return 0;
}
