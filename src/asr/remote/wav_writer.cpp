#include "asr/remote/wav_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace scribepod::asr {
namespace {

// WAV is little-endian whatever the host is, so bytes are written one by one.
void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFFU));
  out.push_back(static_cast<char>((v >> 8) & 0xFFU));
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFFU));
}

}  // namespace

std::string encode_wav_pcm16(const audio::PcmAudio& audio) {
  constexpr std::uint16_t kChannels = 1;
  constexpr std::uint16_t kBits = 16;
  constexpr auto kRate = static_cast<std::uint32_t>(audio::kSampleRate);
  const auto data_bytes = static_cast<std::uint32_t>(audio.samples.size() * 2);

  std::string out;
  out.reserve(44 + data_bytes);
  out += "RIFF";
  put_u32(out, 36 + data_bytes);
  out += "WAVE";
  out += "fmt ";
  put_u32(out, 16);  // PCM fmt chunk size
  put_u16(out, 1);   // format: integer PCM
  put_u16(out, kChannels);
  put_u32(out, kRate);
  put_u32(out, kRate * kChannels * kBits / 8);  // byte rate
  put_u16(out, kChannels * kBits / 8);          // block align
  put_u16(out, kBits);
  out += "data";
  put_u32(out, data_bytes);
  for (const float s : audio.samples) {
    const float clamped = std::isnan(s) ? 0.0F : std::clamp(s, -1.0F, 1.0F);
    const auto v = static_cast<std::int16_t>(std::lrintf(clamped * 32767.0F));
    put_u16(out, static_cast<std::uint16_t>(v));
  }
  return out;
}

}  // namespace scribepod::asr
