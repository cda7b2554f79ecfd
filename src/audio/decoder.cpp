#include "audio/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

namespace scribepod::audio {
namespace {

constexpr int kIoBufferSize = 32 * 1024;
// Sample rates outside this range are corrupt headers in practice, and a
// huge resampling ratio would cost more than the audio is worth.
constexpr int kMinSampleRate = 1000;
constexpr int kMaxSampleRate = 768000;
constexpr int kMaxChannels = 64;  // libswresample's SWR_CH_MAX

// --- RAII for the FFmpeg objects -------------------------------------------

struct AvioDeleter {
  void operator()(AVIOContext* io) const {
    av_freep(&io->buffer);  // avio may have replaced the buffer we gave it
    avio_context_free(&io);
  }
};
struct FormatDeleter {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct SwrDeleter {
  void operator()(SwrContext* s) const { swr_free(&s); }
};
using AvioPtr = std::unique_ptr<AVIOContext, AvioDeleter>;
using FormatPtr = std::unique_ptr<AVFormatContext, FormatDeleter>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using SwrPtr = std::unique_ptr<SwrContext, SwrDeleter>;

// An AVChannelLayout that owns its (possibly allocated) channel map.
class ChannelLayout {
 public:
  ChannelLayout() = default;
  explicit ChannelLayout(const AVChannelLayout& from) { av_channel_layout_copy(&layout_, &from); }
  ChannelLayout(const ChannelLayout&) = delete;
  ChannelLayout& operator=(const ChannelLayout&) = delete;
  ChannelLayout(ChannelLayout&& other) noexcept : layout_(other.layout_) { other.layout_ = {}; }
  ChannelLayout& operator=(ChannelLayout&& other) noexcept {
    std::swap(layout_, other.layout_);
    return *this;
  }
  ~ChannelLayout() { av_channel_layout_uninit(&layout_); }
  const AVChannelLayout& get() const { return layout_; }

 private:
  AVChannelLayout layout_{};
};

std::string av_error_text(int code) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(code, buffer, sizeof buffer) < 0) return "error " + std::to_string(code);
  return buffer;
}

std::string seconds_text(double seconds) {
  std::ostringstream out;
  out << seconds << " s";
  return out.str();
}

// The process-wide FFmpeg settings, made once: the decoder's only global
// state.
//  - Quiet logs: FFmpeg logs to stderr from any thread, and a server's stderr
//    is not the place for a decoder's complaints about a client's file. Our
//    errors carry the reason instead.
//  - A cap on one allocation: demuxers allocate what a header declares before
//    reading it (the WAV demuxer zeroes a 1.9 GB buffer for a 100-byte file
//    whose INFO chunk claims that size; found by fuzz/audio_decode_fuzz).
//    Nothing legitimate in an audio upload needs a larger single block: PCM
//    packets are a few KB, a FLAC frame at most 2 MB, cover art a few MB.
constexpr std::size_t kMaxFfmpegAllocation = std::size_t{32} << 20;

void configure_ffmpeg_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_level(AV_LOG_QUIET);
    av_max_alloc(kMaxFfmpegAllocation);
  });
}

// --- In-memory I/O ---------------------------------------------------------

struct MemoryInput {
  std::string_view bytes;
  std::int64_t pos = 0;
};

int read_memory(void* opaque, std::uint8_t* buf, int buf_size) {
  auto* in = static_cast<MemoryInput*>(opaque);
  const auto size = static_cast<std::int64_t>(in->bytes.size());
  const std::int64_t n = std::min<std::int64_t>(size - in->pos, buf_size);
  if (n <= 0) return AVERROR_EOF;
  std::memcpy(buf, in->bytes.data() + in->pos, static_cast<std::size_t>(n));
  in->pos += n;
  return static_cast<int>(n);
}

std::int64_t seek_memory(void* opaque, std::int64_t offset, int whence) {
  auto* in = static_cast<MemoryInput*>(opaque);
  const auto size = static_cast<std::int64_t>(in->bytes.size());
  std::int64_t base = 0;
  const int how = whence & ~AVSEEK_FORCE;
  if (how == AVSEEK_SIZE) return size;
  if (how == SEEK_CUR) {
    base = in->pos;
  } else if (how == SEEK_END) {
    base = size;
  } else if (how != SEEK_SET) {
    return AVERROR(EINVAL);
  }
  // Written to avoid overflow: offset may be anything a demuxer computed.
  if (offset < -base || offset > size - base) return AVERROR(EINVAL);
  in->pos = base + offset;
  return in->pos;
}

// --- Down-mixing and resampling to 16 kHz mono float -----------------------

// Converts one input configuration (layout, sample format, rate) to 16 kHz
// mono float. Layouts with named channels get libswresample's layout-aware
// down-mix (normalised so the mix never exceeds full scale; stereo becomes
// the average of left and right); layouts without names (raw PCM, unknown
// orders) are averaged with equal weights.
class MonoResampler {
 public:
  static Result<MonoResampler> create(const AVChannelLayout& layout, AVSampleFormat format,
                                      int rate) {
    auto r = create(layout, format, rate, layout.order == AV_CHANNEL_ORDER_NATIVE);
    // A named layout libswresample can't mix (odd channel sets) is averaged.
    if (!r && layout.order == AV_CHANNEL_ORDER_NATIVE) r = create(layout, format, rate, false);
    return r;
  }

  bool accepts(const AVChannelLayout& layout, AVSampleFormat format, int rate) const {
    return format == format_ && rate == rate_ &&
           av_channel_layout_compare(&layout, &layout_.get()) == 0;
  }

  Status push(const std::uint8_t* const* data, int nb_samples, std::vector<float>& out) {
    in_samples_ += nb_samples;
    return convert(data, nb_samples, out);
  }

  // Drains the samples the filter still holds, so the output has exactly
  // round(input * 16000 / rate) samples. libswresample's own flush loses the
  // tail of an input shorter than its filter (a few ms: nothing at all comes
  // out of 20 samples at 8 kHz), so silence goes in first to push every real
  // sample through, and what it adds is cut off again.
  Status flush(std::vector<float>& out) {
    const int pad = std::max(64, rate_ / 50);
    const int rc = swr_inject_silence(swr_.get(), pad);
    if (rc < 0) return Error::internal("resampler failed: " + av_error_text(rc));
    for (;;) {
      const std::size_t before = out.size();
      if (Status s = convert(nullptr, 0, out); !s) return s;
      if (out.size() == before) break;
    }
    const std::int64_t expected =
        av_rescale_rnd(in_samples_, kSampleRate, rate_, AV_ROUND_NEAR_INF);
    if (produced_ > expected) {
      out.resize(out.size() - static_cast<std::size_t>(produced_ - expected));
      produced_ = expected;
    }
    return {};
  }

 private:
  static Result<MonoResampler> create(const AVChannelLayout& layout, AVSampleFormat format,
                                      int rate, bool named) {
    MonoResampler r;
    r.layout_ = ChannelLayout(layout);
    r.format_ = format;
    r.rate_ = rate;
    const int channels = layout.nb_channels;
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    AVChannelLayout unnamed{};
    unnamed.order = AV_CHANNEL_ORDER_UNSPEC;
    unnamed.nb_channels = channels;
    SwrContext* raw = nullptr;
    // FFmpeg 5.1 declares these layout pointers non-const; it only reads them.
    int rc = swr_alloc_set_opts2(&raw, &mono, AV_SAMPLE_FMT_FLT, kSampleRate,
                                 named ? const_cast<AVChannelLayout*>(&layout) : &unnamed, format,
                                 rate, 0, nullptr);
    r.swr_.reset(raw);
    if (rc < 0) return Error::internal("resampler setup failed: " + av_error_text(rc));
    if (named) {
      rc = av_opt_set_double(raw, "rematrix_maxval", 1.0, 0);
    } else {
      const std::vector<double> matrix(static_cast<std::size_t>(channels), 1.0 / channels);
      rc = swr_set_matrix(raw, matrix.data(), channels);
    }
    if (rc >= 0) rc = swr_init(raw);
    if (rc < 0) {
      return Error::unsupported("cannot mix down " + std::to_string(channels) +
                                " channels: " + av_error_text(rc));
    }
    return r;
  }

  Status convert(const std::uint8_t* const* data, int nb_samples, std::vector<float>& out) {
    const int capacity = swr_get_out_samples(swr_.get(), nb_samples);
    if (capacity < 0) return Error::internal("resampler failed: " + av_error_text(capacity));
    if (capacity == 0) return {};
    const std::size_t before = out.size();
    out.resize(before + static_cast<std::size_t>(capacity));
    auto* dst = reinterpret_cast<std::uint8_t*>(out.data() + before);
    const int n =
        swr_convert(swr_.get(), &dst, capacity, const_cast<const std::uint8_t**>(data), nb_samples);
    if (n < 0) {
      out.resize(before);
      return Error::internal("resampler failed: " + av_error_text(n));
    }
    out.resize(before + static_cast<std::size_t>(n));
    produced_ += n;
    // Float sources may hold NaN, infinities or values past full scale, and
    // the Opus decoder may overshoot slightly; consumers get [-1, 1].
    for (std::size_t i = before; i < out.size(); ++i) {
      const float v = out[i];
      out[i] = std::isfinite(v) ? std::clamp(v, -1.0F, 1.0F) : 0.0F;
    }
    return {};
  }

  SwrPtr swr_;
  ChannelLayout layout_;
  AVSampleFormat format_ = AV_SAMPLE_FMT_NONE;
  int rate_ = 0;
  std::int64_t in_samples_ = 0;  // source samples pushed
  std::int64_t produced_ = 0;    // 16 kHz samples emitted
};

// --- Raw PCM16 -------------------------------------------------------------

Result<DecodedAudio> decode_raw_pcm16(std::string_view bytes, const RawPcmSpec& spec,
                                      const DecodeLimits& limits) {
  const auto frame_bytes = static_cast<std::size_t>(2 * spec.channels);
  if (bytes.size() % frame_bytes != 0) {
    return Error::bad_request("raw PCM16 body of " + std::to_string(bytes.size()) +
                              " bytes is not a whole number of " + std::to_string(frame_bytes) +
                              "-byte frames (" + std::to_string(spec.channels) +
                              " channel(s) of 16-bit samples)");
  }
  const std::size_t frames = bytes.size() / frame_bytes;
  const double seconds = static_cast<double>(frames) / spec.sample_rate;
  if (seconds > limits.max_duration_s) {
    return Error::too_large("audio is " + seconds_text(seconds) + " long, over the " +
                            seconds_text(limits.max_duration_s) + " limit");
  }

  std::vector<std::int16_t> samples(bytes.size() / 2);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto a = static_cast<std::uint8_t>(bytes[2 * i]);
    const auto b = static_cast<std::uint8_t>(bytes[2 * i + 1]);
    const auto hi = spec.big_endian ? a : b;
    const auto lo = spec.big_endian ? b : a;
    samples[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>((hi << 8) | lo));
  }

  AVChannelLayout layout{};
  av_channel_layout_default(&layout, spec.channels);
  if (spec.channels > 1) layout.order = AV_CHANNEL_ORDER_UNSPEC;  // raw: channels have no names
  auto resampler = MonoResampler::create(layout, AV_SAMPLE_FMT_S16, spec.sample_rate);
  if (!resampler) return std::move(resampler).take_error();

  DecodedAudio out;
  out.info.format = AudioFormat::kRawPcm16;
  out.info.codec = spec.big_endian ? "pcm_s16be" : "pcm_s16le";
  out.info.source_sample_rate = spec.sample_rate;
  out.info.source_channels = spec.channels;
  out.audio.samples.reserve(static_cast<std::size_t>(seconds * kSampleRate) + 64);
  const auto* data = reinterpret_cast<const std::uint8_t*>(samples.data());
  if (Status s = resampler->push(&data, static_cast<int>(frames), out.audio.samples); !s) {
    return std::move(s).take_error();
  }
  if (Status s = resampler->flush(out.audio.samples); !s) return std::move(s).take_error();
  if (out.audio.samples.empty()) {
    return Error::bad_request("raw PCM16 body of " + std::to_string(bytes.size()) +
                              " bytes is too short to hold a 16 kHz sample");
  }
  return out;
}

// --- Containers through libavformat ----------------------------------------

const char* demuxer_name(AudioFormat format) {
  if (format == AudioFormat::kWav) return "wav";
  if (format == AudioFormat::kOgg) return "ogg";
  if (format == AudioFormat::kWebm) return "matroska";
  if (format == AudioFormat::kMp3) return "mp3";
  if (format == AudioFormat::kFlac) return "flac";
  return nullptr;
}

// The decoders we let loose on client bytes: what the accepted containers
// carry in practice. Anything else is a 415, which also keeps FFmpeg's
// long tail of rarely used decoders out of reach.
constexpr AVCodecID kAcceptedCodecs[] = {
    AV_CODEC_ID_PCM_U8,    AV_CODEC_ID_PCM_S16LE, AV_CODEC_ID_PCM_S16BE, AV_CODEC_ID_PCM_S24LE,
    AV_CODEC_ID_PCM_S24BE, AV_CODEC_ID_PCM_S32LE, AV_CODEC_ID_PCM_S32BE, AV_CODEC_ID_PCM_F32LE,
    AV_CODEC_ID_PCM_F32BE, AV_CODEC_ID_PCM_F64LE, AV_CODEC_ID_PCM_F64BE, AV_CODEC_ID_PCM_MULAW,
    AV_CODEC_ID_PCM_ALAW,  AV_CODEC_ID_OPUS,      AV_CODEC_ID_VORBIS,    AV_CODEC_ID_FLAC,
    AV_CODEC_ID_MP1,       AV_CODEC_ID_MP2,       AV_CODEC_ID_MP3,
};

bool codec_accepted(AVCodecID id) {
  return std::find(std::begin(kAcceptedCodecs), std::end(kAcceptedCodecs), id) !=
         std::end(kAcceptedCodecs);
}

std::string container_error(std::string_view bytes, AudioFormat format, int rc,
                            std::string_view what) {
  const std::string name(format_name(format));
  // Ogg, WAV and WebM can be walked to tell a cut from garbage; for MP3 and
  // FLAC, running out of bytes is the best hint there is.
  const bool walkable =
      format == AudioFormat::kOgg || format == AudioFormat::kWav || format == AudioFormat::kWebm;
  if (looks_cut_short(bytes, format) || (!walkable && rc == AVERROR_EOF)) {
    return "truncated " + name + " stream: it ends before any audio could be read";
  }
  if (rc == AVERROR_EOF) return "corrupt " + name + " stream: no readable audio data found";
  if (rc == AVERROR(ENOMEM)) {  // hit kMaxFfmpegAllocation: a size field lies
    return "corrupt " + name + " stream: its " + std::string(what) +
           " declares far more data than the upload holds";
  }
  return "corrupt " + name + " stream: cannot read its " + std::string(what) + " (" +
         av_error_text(rc) + ")";
}

// One decode: the container opened on the caller's bytes, the best audio
// stream's decoder, and the resampler for whatever the decoder emits.
class ContainerDecoder {
 public:
  ContainerDecoder(std::string_view bytes, AudioFormat format, const DecodeLimits& limits)
      : input_{bytes, 0}, format_(format), limits_(limits) {}

  Result<DecodedAudio> run() {
    if (Status s = open(); !s) return std::move(s).take_error();
    if (Status s = decode_all(); !s) return std::move(s).take_error();
    return finish();
  }

 private:
  Status open() {
    auto* buffer = static_cast<std::uint8_t*>(av_malloc(kIoBufferSize));
    if (buffer == nullptr) return Error::internal("out of memory");
    io_.reset(
        avio_alloc_context(buffer, kIoBufferSize, 0, &input_, read_memory, nullptr, seek_memory));
    if (!io_) {
      av_free(buffer);
      return Error::internal("out of memory");
    }
    AVFormatContext* fmt = avformat_alloc_context();
    if (fmt == nullptr) return Error::internal("out of memory");
    fmt->pb = io_.get();
    fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    // The demuxer is forced from the sniffed format: FFmpeg's probing never
    // gets to pick one of its other demuxers for client bytes.
    const AVInputFormat* demuxer = av_find_input_format(demuxer_name(format_));
    int rc = avformat_open_input(&fmt, nullptr, demuxer, nullptr);  // frees fmt on failure
    if (rc < 0) return Error::bad_request(container_error(input_.bytes, format_, rc, "header"));
    fmt_.reset(fmt);
    if (format_ == AudioFormat::kWav) {
      // The WAV demuxer re-probes 16-bit PCM data against FFmpeg's codec
      // probes (MP3, AAC, H.264, ...) for up to 32 packets, and may switch
      // the codec on a match. That costs ~3 ms per second of audio and lets
      // PCM that happens to look like something else be decoded as it. The
      // header is the authority here: the smallest probe size ends that probe
      // at the first packet.
      fmt->probesize = 32;
    }
    rc = avformat_find_stream_info(fmt, nullptr);
    if (rc < 0) {
      return Error::bad_request(container_error(input_.bytes, format_, rc, "stream parameters"));
    }

    rc = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    if (rc < 0) {
      return Error::bad_request("no audio stream in the " + std::string(format_name(format_)) +
                                " container");
    }
    stream_ = rc;
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
      if (static_cast<int>(i) != stream_) fmt->streams[i]->discard = AVDISCARD_ALL;
    }
    const AVStream* stream = fmt->streams[stream_];
    const AVCodecParameters* par = stream->codecpar;
    info_.format = format_;
    info_.codec = avcodec_get_name(par->codec_id);
    const AVCodec* codec =
        codec_accepted(par->codec_id) ? avcodec_find_decoder(par->codec_id) : nullptr;
    if (codec == nullptr) {
      return Error::unsupported("the " + std::string(format_name(format_)) + " file holds " +
                                info_.codec +
                                " audio; accepted codecs are Opus, Vorbis, FLAC, MP3 and PCM");
    }
    codec_.reset(avcodec_alloc_context3(codec));
    if (!codec_) return Error::internal("out of memory");
    rc = avcodec_parameters_to_context(codec_.get(), par);
    if (rc >= 0) {
      codec_->pkt_timebase = stream->time_base;
      codec_->thread_count = 1;
      rc = avcodec_open2(codec_.get(), codec, nullptr);
    }
    if (rc < 0) {
      return Error::bad_request("decoder error: cannot start the " + info_.codec +
                                " decoder: " + av_error_text(rc));
    }
    return {};
  }

  Status decode_all() {
    PacketPtr packet(av_packet_alloc());
    frame_.reset(av_frame_alloc());
    if (!packet || !frame_) return Error::internal("out of memory");
    for (;;) {
      const int rc = av_read_frame(fmt_.get(), packet.get());
      if (rc < 0) {
        // EOF is the normal end; anything else means the container broke
        // off. Either way we keep what decoded (see the header's policy).
        if (rc != AVERROR_EOF) {
          read_error_ = rc;
          info_.truncated = true;
        }
        break;
      }
      if (packet->stream_index == stream_) {
        const Status s = send(packet.get());
        av_packet_unref(packet.get());
        if (!s) return s;
      } else {
        av_packet_unref(packet.get());
      }
    }
    if (Status s = send(nullptr); !s) return s;  // drain the decoder
    if (resampler_) return resampler_->flush(samples_);
    return {};
  }

  // Sends one packet (nullptr: end of stream) and takes every frame it
  // yields. A packet the decoder rejects is counted and skipped.
  Status send(const AVPacket* packet) {
    if (packet != nullptr) ++packets_;
    int rc = avcodec_send_packet(codec_.get(), packet);
    if (rc == AVERROR(EAGAIN)) {  // the decoder wants its frames taken first
      if (Status s = receive(); !s) return s;
      rc = avcodec_send_packet(codec_.get(), packet);
    }
    if (rc < 0 && rc != AVERROR_EOF) note_damage(rc);
    return receive();
  }

  Status receive() {
    for (;;) {
      const int rc = avcodec_receive_frame(codec_.get(), frame_.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return {};
      if (rc < 0) {
        note_damage(rc);
        return {};
      }
      const Status s = take_frame(*frame_);
      av_frame_unref(frame_.get());
      if (!s) return s;
    }
  }

  void note_damage(int rc) {
    if (info_.damaged_packets++ == 0) first_damage_ = rc;
  }

  Status take_frame(const AVFrame& frame) {
    if (frame.nb_samples <= 0) return {};
    const int rate = frame.sample_rate;
    const int channels = frame.ch_layout.nb_channels;
    if (rate < kMinSampleRate || rate > kMaxSampleRate) {
      return Error::unsupported("sample rate " + std::to_string(rate) + " Hz is outside " +
                                std::to_string(kMinSampleRate) + "-" +
                                std::to_string(kMaxSampleRate) + " Hz");
    }
    if (channels < 1 || channels > kMaxChannels) {
      return Error::unsupported(std::to_string(channels) + " channels; at most " +
                                std::to_string(kMaxChannels) + " are supported");
    }
    // Stop as soon as the limit is passed: the cost of an over-long file is
    // bounded by the limit, not by the file.
    decoded_s_ += static_cast<double>(frame.nb_samples) / rate;
    if (decoded_s_ > limits_.max_duration_s) {
      return Error::too_large("audio is longer than the " + seconds_text(limits_.max_duration_s) +
                              " limit");
    }
    const auto format = static_cast<AVSampleFormat>(frame.format);
    if (!resampler_ || !resampler_->accepts(frame.ch_layout, format, rate)) {
      // First frame, or the stream changed shape (chained Ogg streams can).
      if (resampler_) {
        if (Status s = resampler_->flush(samples_); !s) return s;
      }
      auto created = MonoResampler::create(frame.ch_layout, format, rate);
      if (!created) return std::move(created).take_error();
      resampler_ = std::make_unique<MonoResampler>(std::move(*created));
      if (info_.source_sample_rate == 0) {
        info_.source_sample_rate = rate;
        info_.source_channels = channels;
      }
    }
    return resampler_->push(frame.extended_data, frame.nb_samples, samples_);
  }

  Result<DecodedAudio> finish() {
    const std::string name(format_name(format_));
    // Containers that state their length in a header (FLAC STREAMINFO, an
    // MP3 Xing frame, a finished WebM's Segment duration): decoding clearly
    // less than that means the bytes stopped early.
    const AVFormatContext& fmt = *fmt_;
    const bool stated_short = fmt.duration_estimation_method == AVFMT_DURATION_FROM_STREAM &&
                              fmt.duration > 0 &&
                              decoded_s_ + 0.2 < static_cast<double>(fmt.duration) / AV_TIME_BASE;
    // A cut shows as bytes ending inside a unit, or as a short stream whose
    // only damage is the one packet the cut went through.
    const bool cut =
        looks_cut_short(input_.bytes, format_) || (stated_short && info_.damaged_packets <= 1);
    if (samples_.empty() || (info_.damaged_packets * 2 > packets_ && !cut)) {
      if (cut || (read_error_ != 0 && info_.damaged_packets == 0)) {
        return Error::bad_request("truncated " + name +
                                  " stream: it ends before any audio could be decoded");
      }
      if (info_.damaged_packets > 0) {
        return Error::bad_request("decoder error: " + std::to_string(info_.damaged_packets) +
                                  " of " + std::to_string(packets_) + " " + info_.codec +
                                  " packets failed to decode (" + av_error_text(first_damage_) +
                                  ")");
      }
      return Error::bad_request("the " + name + " file holds no audio");
    }
    info_.truncated = info_.truncated || cut || stated_short || info_.damaged_packets > 0;
    DecodedAudio out;
    out.audio.samples = std::move(samples_);
    out.info = std::move(info_);
    return out;
  }

  MemoryInput input_;
  AudioFormat format_;
  DecodeLimits limits_;
  // Declaration order is destruction order reversed: the format context
  // must close before the I/O context it reads through is freed.
  AvioPtr io_;
  FormatPtr fmt_;
  CodecPtr codec_;
  FramePtr frame_;
  std::unique_ptr<MonoResampler> resampler_;
  int stream_ = -1;
  DecodeInfo info_;
  std::vector<float> samples_;
  double decoded_s_ = 0;
  std::size_t packets_ = 0;
  int read_error_ = 0;
  int first_damage_ = 0;
};

}  // namespace

Result<DecodedAudio> decode_audio_with_info(std::string_view bytes,
                                            std::string_view declared_content_type,
                                            const DecodeLimits& limits) {
  if (bytes.empty()) return Error::bad_request("empty audio: the upload has no bytes");
  if (bytes.size() > limits.max_input_bytes) {
    return Error::too_large("audio upload is " + std::to_string(bytes.size()) +
                            " bytes, over the " + std::to_string(limits.max_input_bytes) +
                            "-byte limit");
  }
  configure_ffmpeg_once();

  auto declared = parse_content_type(declared_content_type);
  const bool raw_declared = declared.ok() && declared->format == AudioFormat::kRawPcm16;
  const AudioFormat sniffed = sniff_format(bytes);
  // Raw PCM has no magic; a bare MPEG frame sync is only 2 bytes, which
  // PCM samples near zero can form, so a declaration outranks it.
  if (raw_declared && !sniff_is_strong(bytes))
    return decode_raw_pcm16(bytes, declared->raw, limits);
  if (sniffed == AudioFormat::kUnknown) {
    // Only a raw PCM declaration can fail to parse: say what was wrong with it.
    if (!declared.ok()) return std::move(declared).take_error();
    std::string message =
        "unsupported audio format: the bytes look like " + describe_unknown(bytes);
    if (declared.ok() && !declared->media_type.empty()) {
      message += " (declared " + declared->media_type + ")";
    }
    message +=
        "; accepted are WAV, Ogg/Opus, WebM/Opus, MP3, FLAC, and raw PCM16 declared as "
        "audio/L16 or audio/pcm";
    return Error::unsupported(std::move(message));
  }
  return ContainerDecoder(bytes, sniffed, limits).run();
}

Result<PcmAudio> decode_audio(std::string_view bytes, std::string_view declared_content_type,
                              const DecodeLimits& limits) {
  auto decoded = decode_audio_with_info(bytes, declared_content_type, limits);
  if (!decoded) return std::move(decoded).take_error();
  return std::move(decoded->audio);
}

}  // namespace scribepod::audio
