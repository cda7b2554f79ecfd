#include "audio/resampler.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "audio/pcm.h"

namespace scribepod::audio {
namespace {

struct SwrFree {
  void operator()(SwrContext* ctx) const { swr_free(&ctx); }
};
using SwrPtr = std::unique_ptr<SwrContext, SwrFree>;

std::string av_error_text(int code) {
  std::array<char, AV_ERROR_MAX_STRING_SIZE> buf{};
  av_strerror(code, buf.data(), buf.size());
  return std::string(buf.data());
}

// Input samples of silence fed at flush(): more than libswresample's filter
// reaches at any supported rate (32 taps at the default quality).
constexpr int kFlushSilence = 256;
constexpr std::size_t kMaxChunkSamples = std::numeric_limits<int>::max() / 8;

float to_float(std::int16_t s) { return static_cast<float>(s) / 32768.0F; }
// A NaN or infinity would poison the filter state for the rest of the stream.
float to_float(float s) { return std::isfinite(s) ? s : 0.0F; }

}  // namespace

struct Resampler::Impl {
  SwrPtr swr;
  int rate = 0;
  int channels = 0;
  bool flushed = false;
  bool has_half_frame = false;  // a left sample waiting for its right one
  float half_frame = 0.0F;
  std::vector<float> mono;  // scratch: the chunk mixed to mono
  std::int64_t frames_in = 0;
  std::int64_t samples_out = 0;

  template <typename T>
  Status process(std::span<const T> in, std::vector<float>& out);
  // Runs swr_convert on `count` mono samples (none: drain) and appends.
  Status convert(const float* samples, int count, std::vector<float>& out);
};

template <typename T>
Status Resampler::Impl::process(std::span<const T> in, std::vector<float>& out) {
  if (flushed) return Error::bad_request("resampler: process() after flush()");
  // libswresample counts samples in int; no live chunk comes near this.
  if (in.size() > kMaxChunkSamples) return Error::bad_request("resampler: chunk too large");
  mono.clear();
  if (channels == 1) {
    mono.reserve(in.size());
    for (T s : in) mono.push_back(to_float(s));
  } else {
    mono.reserve(in.size() / 2 + 1);
    std::size_t i = 0;
    if (has_half_frame && !in.empty()) {
      mono.push_back(0.5F * (half_frame + to_float(in[0])));
      has_half_frame = false;
      i = 1;
    }
    for (; i + 1 < in.size(); i += 2)
      mono.push_back(0.5F * (to_float(in[i]) + to_float(in[i + 1])));
    if (i < in.size()) {
      half_frame = to_float(in[i]);
      has_half_frame = true;
    }
  }
  if (mono.empty()) return {};
  frames_in += static_cast<std::int64_t>(mono.size());
  return convert(mono.data(), static_cast<int>(mono.size()), out);
}

Status Resampler::Impl::convert(const float* samples, int count, std::vector<float>& out) {
  if (!swr) {  // 16 kHz in: nothing to resample, nothing held back
    if (samples != nullptr) {
      out.insert(out.end(), samples, samples + count);
      samples_out += count;
    }
    return {};
  }
  const int capacity = swr_get_out_samples(swr.get(), count);
  if (capacity < 0) {
    return Error::internal("resampler: swr_get_out_samples: " + av_error_text(capacity));
  }
  if (capacity == 0) return {};
  const std::size_t old_size = out.size();
  out.resize(old_size + static_cast<std::size_t>(capacity));
  auto* dst = reinterpret_cast<std::uint8_t*>(out.data() + old_size);
  const auto* src = reinterpret_cast<const std::uint8_t*>(samples);
  const int produced = swr_convert(swr.get(), &dst, capacity, samples ? &src : nullptr, count);
  if (produced < 0) {
    out.resize(old_size);
    return Error::internal("resampler: swr_convert: " + av_error_text(produced));
  }
  out.resize(old_size + static_cast<std::size_t>(produced));
  samples_out += produced;
  return {};
}

Result<Resampler> Resampler::create(int input_rate, int channels) {
  if (input_rate < kMinInputRate || input_rate > kMaxInputRate) {
    return Error::bad_request("resampler: input rate " + std::to_string(input_rate) +
                              " Hz is outside 8000..48000");
  }
  if (channels != 1 && channels != 2) {
    return Error::bad_request("resampler: " + std::to_string(channels) +
                              " channels; only mono and stereo are accepted");
  }
  auto impl = std::make_unique<Impl>();
  impl->rate = input_rate;
  impl->channels = channels;
  // Already 16 kHz (the live page's rate): no libswresample context, which
  // is most of an idle live stream's memory.
  if (input_rate == kSampleRate) return Resampler(std::move(impl));
  // Channels are mixed down before libswresample sees them, so it only
  // changes the rate of one float channel.
  AVChannelLayout mono_layout{};
  av_channel_layout_default(&mono_layout, 1);
  SwrContext* raw = nullptr;
  int rc = swr_alloc_set_opts2(&raw, &mono_layout, AV_SAMPLE_FMT_FLT, kSampleRate, &mono_layout,
                               AV_SAMPLE_FMT_FLT, input_rate, 0, nullptr);
  SwrPtr swr(raw);
  if (rc < 0 || !swr) {
    return Error::internal("resampler: swr_alloc_set_opts2: " + av_error_text(rc));
  }
  if (rc = swr_init(swr.get()); rc < 0) {
    return Error::internal("resampler: swr_init: " + av_error_text(rc));
  }
  impl->swr = std::move(swr);
  return Resampler(std::move(impl));
}

Resampler::Resampler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Resampler::Resampler(Resampler&&) noexcept = default;
Resampler& Resampler::operator=(Resampler&&) noexcept = default;
Resampler::~Resampler() = default;

Status Resampler::process(std::span<const std::int16_t> interleaved, std::vector<float>& out) {
  return impl_->process(interleaved, out);
}

Status Resampler::process(std::span<const float> interleaved, std::vector<float>& out) {
  return impl_->process(interleaved, out);
}

Status Resampler::flush(std::vector<float>& out) {
  Impl& s = *impl_;
  if (s.flushed) return {};
  s.flushed = true;
  s.has_half_frame = false;
  // libswresample's own drain is short by up to a filter length for short
  // streams and off by one for others. Feeding silence past the end pushes
  // every real sample out of the filter; the exact count is then cut back.
  const std::int64_t expected = (s.frames_in * kSampleRate + s.rate / 2) / s.rate;
  const std::size_t start = out.size();
  if (s.frames_in > 0 && s.swr) {
    if (int rc = swr_inject_silence(s.swr.get(), kFlushSilence); rc < 0) {
      return Error::internal("resampler: swr_inject_silence: " + av_error_text(rc));
    }
    for (;;) {
      const std::int64_t before = s.samples_out;
      if (Status st = s.convert(nullptr, 0, out); !st) return st;
      if (s.samples_out == before) break;
    }
  }
  const std::int64_t excess = std::min<std::int64_t>(s.samples_out - expected,
                                                     static_cast<std::int64_t>(out.size() - start));
  if (excess > 0) {
    out.resize(out.size() - static_cast<std::size_t>(excess));
    s.samples_out -= excess;
  }
  return {};
}

int Resampler::input_rate() const { return impl_->rate; }
int Resampler::channels() const { return impl_->channels; }
std::int64_t Resampler::frames_in() const { return impl_->frames_in; }
std::int64_t Resampler::samples_out() const { return impl_->samples_out; }

}  // namespace scribepod::audio
