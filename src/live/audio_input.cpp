#include "live/audio_input.h"

#include <fmt/format.h>

namespace scribepod::live {

Result<AudioInput> AudioInput::create(AudioEncoding encoding, int sample_rate) {
  std::optional<OpusPacketDecoder> opus;
  int resampler_rate = sample_rate;
  if (encoding == AudioEncoding::kOpus) {
    auto d = OpusPacketDecoder::create();
    if (!d) return std::move(d).take_error();
    opus.emplace(std::move(d).value());
    // libavcodec's opus decoder always produces 48 kHz, whatever the
    // encoder's input rate was.
    resampler_rate = OpusPacketDecoder::kOutputRate;
  }
  auto r = audio::Resampler::create(resampler_rate, 1);
  if (!r) return std::move(r).take_error();
  return AudioInput(encoding, sample_rate, std::move(r).value(), std::move(opus));
}

AudioInput::AudioInput(AudioEncoding encoding, int sample_rate, audio::Resampler resampler,
                       std::optional<OpusPacketDecoder> opus)
    : encoding_(encoding),
      sample_rate_(sample_rate),
      resampler_(std::move(resampler)),
      opus_(std::move(opus)) {}

Result<double> measure_audio_frame(AudioEncoding encoding, int sample_rate,
                                   std::span<const uint8_t> bytes, std::size_t max_frame_bytes) {
  if (bytes.size() > max_frame_bytes) {
    return Error::too_large(fmt::format("an audio frame is limited to {} bytes", max_frame_bytes));
  }
  if (bytes.empty()) return Error::bad_request("an empty audio frame");
  if (encoding == AudioEncoding::kPcm16) {
    if (bytes.size() % 2 != 0) return Error::bad_request("a pcm16 frame ended in a partial sample");
    return static_cast<double>(bytes.size() / 2) * 1000.0 / sample_rate;
  }
  auto samples = opus_packet_samples_48k(bytes);
  if (!samples) return std::move(samples).take_error();
  return static_cast<double>(*samples) / 48.0;
}

Status AudioInput::decode(std::span<const uint8_t> bytes, std::vector<float>& out) {
  if (encoding_ == AudioEncoding::kPcm16) {
    // Scratch buffers are per call: an idle stream should hold no audio.
    std::vector<int16_t> pcm(bytes.size() / 2);
    for (std::size_t i = 0; i < pcm.size(); ++i) {
      const auto lo = static_cast<uint16_t>(bytes[2 * i]);
      const auto hi = static_cast<uint16_t>(bytes[2 * i + 1]);
      pcm[i] = static_cast<int16_t>(static_cast<uint16_t>(lo | static_cast<uint16_t>(hi << 8U)));
    }
    return resampler_.process(pcm, out);
  }
  std::vector<float> decoded;
  if (auto s = opus_->decode(bytes, decoded); !s) return s;
  return resampler_.process(decoded, out);
}

Status AudioInput::flush(std::vector<float>& out) { return resampler_.flush(out); }

}  // namespace scribepod::live
