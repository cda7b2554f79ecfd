#include "live/opus_packet_decoder.h"

#include <algorithm>
#include <cstring>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libavutil/samplefmt.h>
}

namespace scribepod::live {

Result<int> opus_packet_samples_48k(std::span<const uint8_t> packet) {
  if (packet.empty()) return Error::bad_request("empty opus packet");
  const unsigned toc = packet[0];
  const unsigned config = toc >> 3U;
  int frame = 0;  // samples per frame at 48 kHz
  if (config < 12) {
    static constexpr int kSilk[4] = {480, 960, 1920, 2880};
    frame = kSilk[config % 4];
  } else if (config < 16) {
    frame = (config % 2 == 0) ? 480 : 960;
  } else {
    static constexpr int kCelt[4] = {120, 240, 480, 960};
    frame = kCelt[config % 4];
  }
  int count = 1;
  switch (toc & 3U) {
    case 0:
      count = 1;
      break;
    case 1:
    case 2:
      count = 2;
      break;
    default:
      if (packet.size() < 2) return Error::bad_request("truncated opus packet");
      count = packet[1] & 0x3F;
      if (count == 0) return Error::bad_request("opus packet with no frames");
  }
  const int total = frame * count;
  if (total > 5760) return Error::bad_request("opus packet longer than 120 ms");
  return total;
}

struct OpusPacketDecoder::Impl {
  AVCodecContext* ctx = nullptr;
  AVPacket* pkt = nullptr;
  AVFrame* frame = nullptr;
  ~Impl() {
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
  }
};

Result<OpusPacketDecoder> OpusPacketDecoder::create() {
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_OPUS);
  if (codec == nullptr) return Error::internal("FFmpeg has no opus decoder");
  auto impl = std::make_unique<Impl>();
  impl->ctx = avcodec_alloc_context3(codec);
  impl->pkt = av_packet_alloc();
  impl->frame = av_frame_alloc();
  if (impl->ctx == nullptr || impl->pkt == nullptr || impl->frame == nullptr) {
    return Error::internal("out of memory for the opus decoder");
  }
  impl->ctx->sample_rate = kOutputRate;
  av_channel_layout_default(&impl->ctx->ch_layout, 1);
  impl->ctx->request_sample_fmt = AV_SAMPLE_FMT_FLT;
  if (avcodec_open2(impl->ctx, codec, nullptr) < 0) {
    return Error::internal("could not open FFmpeg's opus decoder");
  }
  return OpusPacketDecoder(std::move(impl));
}

OpusPacketDecoder::OpusPacketDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OpusPacketDecoder::OpusPacketDecoder(OpusPacketDecoder&&) noexcept = default;
OpusPacketDecoder& OpusPacketDecoder::operator=(OpusPacketDecoder&&) noexcept = default;
OpusPacketDecoder::~OpusPacketDecoder() = default;

Status OpusPacketDecoder::decode(std::span<const uint8_t> packet, std::vector<float>& out) {
  if (packet.empty()) return Error::bad_request("empty opus packet");
  // libavcodec reads up to AV_INPUT_BUFFER_PADDING_SIZE past the end.
  if (av_new_packet(impl_->pkt, static_cast<int>(packet.size())) < 0) {
    return Error::internal("out of memory for an opus packet");
  }
  std::copy(packet.begin(), packet.end(), impl_->pkt->data);
  const int sent = avcodec_send_packet(impl_->ctx, impl_->pkt);
  av_packet_unref(impl_->pkt);
  if (sent < 0) return Error::bad_request("the opus decoder rejected a packet");
  while (true) {
    const int r = avcodec_receive_frame(impl_->ctx, impl_->frame);
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) break;
    if (r < 0) return Error::bad_request("the opus decoder rejected a packet");
    const AVFrame* f = impl_->frame;
    const int channels = f->ch_layout.nb_channels;
    const auto fmt = static_cast<AVSampleFormat>(f->format);
    for (int i = 0; i < f->nb_samples; ++i) {
      float sum = 0;
      for (int c = 0; c < channels; ++c) {
        float v = 0;
        if (fmt == AV_SAMPLE_FMT_FLTP) {
          std::memcpy(&v, f->extended_data[c] + static_cast<std::size_t>(i) * sizeof(float),
                      sizeof(float));
        } else if (fmt == AV_SAMPLE_FMT_FLT) {
          std::memcpy(
              &v, f->extended_data[0] + static_cast<std::size_t>(i * channels + c) * sizeof(float),
              sizeof(float));
        }
        sum += v;
      }
      out.push_back(channels > 0 ? sum / static_cast<float>(channels) : 0.0F);
    }
    av_frame_unref(impl_->frame);
  }
  return {};
}

}  // namespace scribepod::live
