#include "audio/vad.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>

// WebRTC's voice activity detector itself (common_audio/vad/webrtc_vad.h).
// libwebrtc-audio-processing exports it but installs no header for it. Its
// AudioProcessing module, which we used before, runs exactly this on a 16 kHz
// mono frame when every other component is off, but costs ~20 KiB per stream
// (an always-on gain-control manager, a 7.5 KiB frame buffer); the detector
// alone is ~0.7 KiB.
extern "C" {
struct WebRtcVadInst;
WebRtcVadInst* WebRtcVad_Create();
void WebRtcVad_Free(WebRtcVadInst* handle);
int WebRtcVad_Init(WebRtcVadInst* handle);
int WebRtcVad_set_mode(WebRtcVadInst* handle, int mode);
int WebRtcVad_Process(WebRtcVadInst* handle, int fs, const int16_t* audio_frame,
                      size_t frame_length);
}

namespace scribepod::audio {
namespace {

struct WebRtcVadDeleter {
  void operator()(WebRtcVadInst* v) const { WebRtcVad_Free(v); }
};

constexpr std::size_t kFrame = kVadFrameSamples;
// Periodicity analysis: the whitened signal below 1 kHz, kept at 8 kHz (every
// second sample), in a 30 ms window compared with itself one pitch period
// earlier, for periods of 60..400 Hz. The history (16 kHz) holds the window
// plus the longest lag plus the whitening filter's memory and the low-pass's
// settling time (~30 samples).
constexpr std::size_t kLpcOrder = 12;
constexpr std::size_t kPitchStep = 2;
constexpr std::size_t kPitchRate = kSampleRate / kPitchStep;
constexpr std::size_t kMinLag = kPitchRate / 400;  // 20
constexpr std::size_t kMaxLag = kPitchRate / 60;   // 133
constexpr std::size_t kWindow = 240;
constexpr std::size_t kHistory = 800;
constexpr std::size_t kPitchSamples = kHistory / kPitchStep;
static_assert((kWindow + kMaxLag) * kPitchStep + kLpcOrder + 32 <= kHistory);
static_assert(kHistory % kFrame == 0);

constexpr float kSilenceDb = -120.0F;
constexpr float kUnknownFloor = 1000.0F;  // a floor_ring slot with no information
constexpr std::size_t kFloorPercentile = 5;
constexpr float kPeakDecayDbPerFrame = 0.03F;  // 3 dB/s
constexpr double kHighPassHz = 70.0;
constexpr double kPitchBandHz = 1000.0;

float power_to_db(double power) {
  if (power <= 1e-12) return kSilenceDb;
  return std::max(kSilenceDb, static_cast<float>(10.0 * std::log10(power)));
}

// A second-order Butterworth section (RBJ cookbook), in double precision so
// low cut-offs stay stable.
class Biquad {
 public:
  static Biquad high_pass(double hz) {
    const double w0 = 2.0 * std::numbers::pi * hz / kSampleRate;
    const double c = std::cos(w0);
    const double alpha = std::sin(w0) / std::numbers::sqrt2;  // Q = 1/sqrt(2)
    return Biquad((1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0, 1.0 + alpha, -2.0 * c, 1.0 - alpha);
  }
  static Biquad low_pass(double hz) {
    const double w0 = 2.0 * std::numbers::pi * hz / kSampleRate;
    const double c = std::cos(w0);
    const double alpha = std::sin(w0) / std::numbers::sqrt2;
    return Biquad((1.0 - c) / 2.0, 1.0 - c, (1.0 - c) / 2.0, 1.0 + alpha, -2.0 * c, 1.0 - alpha);
  }
  double step(double x) {
    const double y = b0_ * x + s1_;
    s1_ = b1_ * x - a1_ * y + s2_;
    s2_ = b2_ * x - a2_ * y;
    return y;
  }

 private:
  Biquad(double b0, double b1, double b2, double a0, double a1, double a2)
      : b0_(b0 / a0), b1_(b1 / a0), b2_(b2 / a0), a1_(a1 / a0), a2_(a2 / a0) {}
  double b0_, b1_, b2_, a1_, a2_;
  double s1_ = 0, s2_ = 0;
};

// Linear-prediction coefficients a[1..order] (a[0] = 1) of the Hamming-
// windowed history by Levinson-Durbin; false when it is (numerically) silent.
bool lpc(const std::array<float, kHistory>& x, std::array<double, kLpcOrder + 1>& a) {
  static const std::array<double, kHistory> kHamming = [] {
    std::array<double, kHistory> h{};
    for (std::size_t i = 0; i < kHistory; ++i) {
      h[i] = 0.54 - 0.46 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) /
                                    static_cast<double>(kHistory - 1));
    }
    return h;
  }();
  std::array<double, kLpcOrder + 1> r{};
  const std::size_t n = kHistory;
  std::array<double, kHistory> w{};
  for (std::size_t i = 0; i < n; ++i) w[i] = kHamming[i] * static_cast<double>(x[i]);
  for (std::size_t k = 0; k <= kLpcOrder; ++k) {
    double sum = 0;
    for (std::size_t i = k; i < n; ++i) sum += w[i] * w[i - k];
    r[k] = sum;
  }
  if (r[0] <= 1e-10) return false;
  r[0] *= 1.0 + 1e-4;  // a little white noise keeps the recursion stable
  a.fill(0.0);
  a[0] = 1.0;
  double err = r[0];
  for (std::size_t i = 1; i <= kLpcOrder; ++i) {
    double acc = r[i];
    for (std::size_t j = 1; j < i; ++j) acc += a[j] * r[i - j];
    const double k = -acc / err;
    std::array<double, kLpcOrder + 1> prev = a;
    for (std::size_t j = 1; j < i; ++j) a[j] = prev[j] + k * prev[i - j];
    a[i] = k;
    err *= 1.0 - k * k;
    if (err <= 0) return false;
  }
  return true;
}

// How strongly the recent signal repeats at a pitch period: the maximum over
// lags of the normalised cross-correlation between the last kWindow samples
// and the same span one lag earlier, computed on the LPC residual below
// kPitchBandHz (at kPitchRate). Whitening matters: coloured noise (pink, brown) is strongly
// correlated at short lags, while its residual is white and correlates with
// nothing; the residual of voiced speech keeps its glottal pulses one period
// apart. The low-pass matters in noise: whitening lifts the upper bands, where
// speech is weak and noise dominates, to equal weight, and the pitch
// harmonics that survive noise live below 1 kHz.
float periodicity(const std::array<float, kHistory>& history) {
  std::array<double, kLpcOrder + 1> a{};
  if (!lpc(history, a)) return 0.0F;
  std::array<float, kHistory> e{};
  Biquad low_pass = Biquad::low_pass(kPitchBandHz);
  for (std::size_t n = kLpcOrder; n < kHistory; ++n) {
    double acc = static_cast<double>(history[n]);
    for (std::size_t k = 1; k <= kLpcOrder; ++k) acc += a[k] * static_cast<double>(history[n - k]);
    e[n] = static_cast<float>(low_pass.step(acc));
  }
  // The pitch signal: every second sample, ending with the newest. The
  // low-pass keeps the aliasing this causes 24 dB down or more.
  std::array<float, kPitchSamples> p{};
  for (std::size_t i = 0; i < kPitchSamples; ++i) p[i] = e[i * kPitchStep + kPitchStep - 1];
  // prefix[i] = sum of p[j]^2 for j < i, so any span's energy is O(1).
  std::array<double, kPitchSamples + 1> prefix{};
  for (std::size_t i = 0; i < kPitchSamples; ++i) {
    prefix[i + 1] = prefix[i] + static_cast<double>(p[i]) * static_cast<double>(p[i]);
  }
  const std::size_t begin = kPitchSamples - kWindow;
  const double e0 = prefix[kPitchSamples] - prefix[begin];
  if (e0 <= 1e-12) return 0.0F;
  float best = 0.0F;
  for (std::size_t lag = kMinLag; lag <= kMaxLag; ++lag) {
    const float* cur = p.data() + begin;
    const float* past = cur - lag;
    float dot = 0.0F;
    for (std::size_t i = 0; i < kWindow; ++i) dot += cur[i] * past[i];
    const double el = prefix[kPitchSamples - lag] - prefix[begin - lag];
    const double denom = std::sqrt(e0 * el);
    if (denom > 1e-12) best = std::max(best, static_cast<float>(static_cast<double>(dot) / denom));
  }
  return best;
}

Status validate(const VadOptions& o) {
  auto bad = [](const std::string& what) { return Error::invalid_config("vad: " + what); };
  if (o.aggressiveness < 0 || o.aggressiveness > 3) return bad("aggressiveness must be 0..3");
  if (!std::isfinite(o.energy_threshold_db) || o.energy_threshold_db < 0.0F) {
    return bad("energy_threshold_db must be >= 0");
  }
  if (!std::isfinite(o.min_energy_dbfs)) return bad("min_energy_dbfs must be finite");
  if (o.noise_floor_window_frames < 1 || o.noise_floor_window_frames > 100000) {
    return bad("noise_floor_window_frames must be 1..100000");
  }
  if (!(o.periodicity_threshold >= 0.0F && o.periodicity_threshold < 1.0F)) {
    return bad("periodicity_threshold must be in [0, 1)");
  }
  if (o.start_window_frames < 1 || o.start_window_frames > 1000) {
    return bad("start_window_frames must be 1..1000");
  }
  if (o.start_min_frames < 1 || o.start_min_frames > o.start_window_frames) {
    return bad("start_min_frames must be 1..start_window_frames");
  }
  if (o.max_unvoiced_frames < 0) return bad("max_unvoiced_frames must be >= 0");
  if (o.hangover_frames < 0) return bad("hangover_frames must be >= 0");
  if (!(o.speech_range_db > 0.0F)) return bad("speech_range_db must be > 0");
  if (o.onset_lookback_frames < 0 || o.onset_lookback_frames > 1000) {
    return bad("onset_lookback_frames must be 0..1000");
  }
  return {};
}

}  // namespace

struct VoiceActivityDetector::Impl {
  VadOptions options;
  std::unique_ptr<WebRtcVadInst, WebRtcVadDeleter> webrtc;
  Biquad high_pass = Biquad::high_pass(kHighPassHz);

  std::array<float, kFrame> pending{};  // raw samples of the incomplete frame
  std::size_t pending_size = 0;
  std::array<float, kHistory> history{};  // high-passed, newest last

  std::array<double, 3> recent_power{};  // for the smoothed level
  float floor_db = kSilenceDb;
  std::vector<float> floor_ring;          // smoothed energies (dB), a ring
  std::vector<float> floor_scratch;       // the informative ones, for the percentile
  std::vector<std::int64_t> voiced_ring;  // indices of recent voiced frames, a ring
  std::vector<char> active_ring;          // recent "active" flags, by frame index

  std::int64_t frame_index = 0;
  bool in_speech = false;
  int since_voiced = 0;
  float peak_db = kSilenceDb;  // the current utterance's level, decaying
  int hangover_left = 0;
  std::int64_t onset = -1;

  VadFrame decide(std::span<const float, kFrame> input);
  std::int64_t backdated_onset(std::int64_t first_voiced) const;
  bool webrtc_voice(std::span<const float, kFrame> raw);
  float update_level(double power);
};

bool VoiceActivityDetector::Impl::webrtc_voice(std::span<const float, kFrame> raw) {
  std::array<std::int16_t, kFrame> pcm{};
  for (std::size_t i = 0; i < kFrame; ++i) {
    pcm[i] = static_cast<std::int16_t>(std::lrint(raw[i] * 32767.0F));
  }
  return WebRtcVad_Process(webrtc.get(), kSampleRate, pcm.data(), kFrame) == 1;
}

// Updates the level the gates look at: the frame power averaged over three
// frames (10 ms of low-frequency noise holds too few cycles for a steady
// energy; brown noise would poke through the gate). Returns it in dB and sets
// floor_db, a low percentile (kFloorPercentile) of that level over the last
// noise_floor_window_frames. Speech always has pauses and weak stretches
// within a second or two, so the floor follows the background; a percentile
// rather than the minimum lets a few unusually quiet frames (a fade-in, a
// dropout) pass without dragging the floor down for a whole window. Frames too
// quiet to matter (below min_energy_dbfs minus the threshold, e.g. digital
// silence before a noisy stream) say nothing about the floor and are left out.
float VoiceActivityDetector::Impl::update_level(double power) {
  recent_power[static_cast<std::size_t>(frame_index) % recent_power.size()] = power;
  const std::size_t have = static_cast<std::size_t>(
      std::min<std::int64_t>(frame_index + 1, static_cast<std::int64_t>(recent_power.size())));
  double sum = 0;
  for (std::size_t i = 0; i < have; ++i) sum += recent_power[i];
  const float level_db = power_to_db(sum / static_cast<double>(have));
  const bool informative = level_db >= options.min_energy_dbfs - options.energy_threshold_db;
  floor_ring[static_cast<std::size_t>(frame_index) % floor_ring.size()] =
      informative ? level_db : kUnknownFloor;
  floor_scratch.clear();
  for (float db : floor_ring) {
    if (db != kUnknownFloor) floor_scratch.push_back(db);
  }
  floor_db = kSilenceDb;
  if (!floor_scratch.empty()) {
    const auto nth = floor_scratch.begin() +
                     static_cast<std::ptrdiff_t>(floor_scratch.size() * kFloorPercentile / 100);
    std::nth_element(floor_scratch.begin(), nth, floor_scratch.end());
    floor_db = *nth;
  }
  return level_db;
}

// Utterances often begin with a consonant or a weak, breathy vowel that is
// loud enough but not yet periodic. The onset moves back over such active
// frames that immediately precede the first voiced one.
std::int64_t VoiceActivityDetector::Impl::backdated_onset(std::int64_t first_voiced) const {
  const std::int64_t limit = std::max<std::int64_t>(
      0, std::max(first_voiced - options.onset_lookback_frames,
                  frame_index - static_cast<std::int64_t>(active_ring.size()) + 1));
  std::int64_t onset_frame = first_voiced;
  while (onset_frame > limit &&
         active_ring[static_cast<std::size_t>(onset_frame - 1) % active_ring.size()] != 0) {
    --onset_frame;
  }
  return onset_frame;
}

VadFrame VoiceActivityDetector::Impl::decide(std::span<const float, kFrame> input) {
  // A NaN or infinity would stay in the filters' state for good: treat it as
  // silence. Samples beyond full scale are clipped, as a sound card would.
  std::array<float, kFrame> raw{};
  for (std::size_t i = 0; i < kFrame; ++i) {
    raw[i] = std::isfinite(input[i]) ? std::clamp(input[i], -1.0F, 1.0F) : 0.0F;
  }
  std::copy(history.begin() + kFrame, history.end(), history.begin());
  double power = 0;
  for (std::size_t i = 0; i < kFrame; ++i) {
    const auto y = static_cast<float>(high_pass.step(static_cast<double>(raw[i])));
    history[kHistory - kFrame + i] = y;
    power += static_cast<double>(y) * static_cast<double>(y);
  }
  power /= kFrame;

  VadFrame out;
  out.index = frame_index;
  out.energy_db = power_to_db(power);
  const float level_db = update_level(power);
  // WebRTC runs on every frame so its internal noise model keeps adapting.
  const bool voice = webrtc_voice(raw);
  const bool active = voice && level_db >= options.min_energy_dbfs &&
                      level_db >= floor_db + options.energy_threshold_db;
  bool voiced = active;
  if (active && options.periodicity_threshold > 0.0F) {
    voiced = periodicity(history) >= options.periodicity_threshold;
  }
  voiced_ring[static_cast<std::size_t>(frame_index) % voiced_ring.size()] =
      voiced ? frame_index : -1;
  active_ring[static_cast<std::size_t>(frame_index) % active_ring.size()] = active ? 1 : 0;

  if (!in_speech) {
    const std::int64_t oldest = frame_index - options.start_window_frames + 1;
    int count = 0;
    std::int64_t first = frame_index;
    for (std::int64_t idx : voiced_ring) {
      if (idx >= 0 && idx >= oldest) {
        ++count;
        first = std::min(first, idx);
      }
    }
    if (count >= options.start_min_frames) {
      in_speech = true;
      peak_db = level_db;
      onset = backdated_onset(first);
      since_voiced = 0;
      hangover_left = options.hangover_frames;
      out.speech = true;
    }
  } else {
    // Breath, clicks and reverberation after the words are far below the
    // utterance's own level even when they stand out from the background.
    peak_db = std::max(level_db, peak_db - kPeakDecayDbPerFrame);
    const bool loud_enough = level_db >= peak_db - options.speech_range_db;
    since_voiced = voiced && loud_enough ? 0 : since_voiced + 1;
    if (active && loud_enough && since_voiced <= options.max_unvoiced_frames) {
      hangover_left = options.hangover_frames;
      out.speech = true;
    } else if (hangover_left > 0) {
      --hangover_left;
      out.speech = true;
      out.hangover = true;
    } else {
      in_speech = false;
    }
  }
  ++frame_index;
  return out;
}

Result<VoiceActivityDetector> VoiceActivityDetector::create(const VadOptions& options) {
  if (Status s = validate(options); !s) return Error(s.error());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->webrtc.reset(WebRtcVad_Create());
  // The aggressiveness is WebRTC's own mode (0..3), which its AudioProcessing
  // module's likelihoods kHigh..kVeryLow map to one to one.
  if (!impl->webrtc || WebRtcVad_Init(impl->webrtc.get()) != 0 ||
      WebRtcVad_set_mode(impl->webrtc.get(), options.aggressiveness) != 0) {
    return Error::internal("vad: cannot set up the WebRTC voice activity detector");
  }
  impl->floor_ring.assign(static_cast<std::size_t>(options.noise_floor_window_frames),
                          kUnknownFloor);
  impl->voiced_ring.assign(static_cast<std::size_t>(options.start_window_frames), -1);
  impl->active_ring.assign(
      static_cast<std::size_t>(options.start_window_frames + options.onset_lookback_frames), 0);
  return VoiceActivityDetector(std::move(impl));
}

VoiceActivityDetector::VoiceActivityDetector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VoiceActivityDetector::VoiceActivityDetector(VoiceActivityDetector&&) noexcept = default;
VoiceActivityDetector& VoiceActivityDetector::operator=(VoiceActivityDetector&&) noexcept = default;
VoiceActivityDetector::~VoiceActivityDetector() = default;

std::vector<VadFrame> VoiceActivityDetector::process(std::span<const float> samples) {
  Impl& s = *impl_;
  std::vector<VadFrame> frames;
  frames.reserve((s.pending_size + samples.size()) / kFrame);
  while (!samples.empty()) {
    if (s.pending_size == 0 && samples.size() >= kFrame) {
      frames.push_back(s.decide(samples.first<kFrame>()));
      samples = samples.subspan(kFrame);
      continue;
    }
    const std::size_t take = std::min(kFrame - s.pending_size, samples.size());
    std::copy_n(samples.begin(), take,
                s.pending.begin() + static_cast<std::ptrdiff_t>(s.pending_size));
    s.pending_size += take;
    samples = samples.subspan(take);
    if (s.pending_size == kFrame) {
      frames.push_back(s.decide(s.pending));
      s.pending_size = 0;
    }
  }
  return frames;
}

bool VoiceActivityDetector::in_speech() const { return impl_->in_speech; }
std::int64_t VoiceActivityDetector::speech_onset_frame() const { return impl_->onset; }
std::int64_t VoiceActivityDetector::frames_processed() const { return impl_->frame_index; }

// An utterance that starts at a later frame c has its first voiced frame at
// c - start_window_frames + 1 or later: the earliest voiced frame already
// decided from there on, or a frame not decided yet. Its onset reaches back
// from that frame only over active frames. Walking back from the earliest
// candidate over the active frames already decided gives a bound no later
// onset can beat. (In silence or steady noise: the next frame.)
std::int64_t VoiceActivityDetector::earliest_possible_onset() const {
  const Impl& s = *impl_;
  if (s.in_speech) return s.onset;
  const std::int64_t oldest = s.frame_index - s.options.start_window_frames + 1;
  std::int64_t first = s.frame_index;
  for (std::int64_t idx : s.voiced_ring) {
    if (idx >= 0 && idx >= oldest) first = std::min(first, idx);
  }
  const std::int64_t limit = std::max<std::int64_t>(
      0, std::max(first - s.options.onset_lookback_frames,
                  s.frame_index - static_cast<std::int64_t>(s.active_ring.size())));
  std::int64_t onset = first;
  while (onset > limit &&
         s.active_ring[static_cast<std::size_t>(onset - 1) % s.active_ring.size()] != 0) {
    --onset;
  }
  return onset;
}

Result<std::vector<SpeechRegion>> speech_regions(const PcmAudio& audio, const VadOptions& vad,
                                                 const SpeechRegionOptions& regions) {
  auto valid = [](double v) { return std::isfinite(v) && v >= 0.0; };
  if (!valid(regions.merge_gap_s) || !valid(regions.pad_s) || !valid(regions.min_speech_s)) {
    return Error::invalid_config("vad: speech region gap, padding and minimum must be >= 0");
  }
  auto detector = VoiceActivityDetector::create(vad);
  if (!detector) return std::move(detector).take_error();
  constexpr double kFrameS = static_cast<double>(kFrame) / kSampleRate;

  // Raw utterances in frames: [onset, last active frame].
  std::vector<std::pair<std::int64_t, std::int64_t>> runs;
  bool open = false;
  std::span<const float> rest(audio.samples);
  while (rest.size() >= kFrame) {
    const std::vector<VadFrame> frames = detector->process(rest.first(kFrame));
    rest = rest.subspan(kFrame);
    const VadFrame& f = frames.front();
    if (f.speech && !f.hangover) {
      if (!open) runs.emplace_back(detector->speech_onset_frame(), f.index);
      runs.back().second = f.index;
    }
    open = f.speech;
  }

  // Merge across short gaps first, so a word split by a pause is judged by
  // its whole length; then drop blips and pad (padding can make neighbours
  // touch, which merges them too).
  std::vector<SpeechRegion> merged;
  for (const auto& [first, last] : runs) {
    const SpeechRegion r{static_cast<double>(first) * kFrameS,
                         static_cast<double>(last + 1) * kFrameS};
    if (!merged.empty() && r.start_s - merged.back().end_s < regions.merge_gap_s) {
      merged.back().end_s = std::max(merged.back().end_s, r.end_s);
    } else {
      merged.push_back(r);
    }
  }
  std::vector<SpeechRegion> out;
  const double duration = audio.duration_s();
  for (SpeechRegion r : merged) {
    if (r.end_s - r.start_s < regions.min_speech_s) continue;
    r.start_s = std::max(0.0, r.start_s - regions.pad_s);
    r.end_s = std::min(duration, r.end_s + regions.pad_s);
    if (!out.empty() && r.start_s <= out.back().end_s) {
      out.back().end_s = std::max(out.back().end_s, r.end_s);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

Result<bool> has_speech(const PcmAudio& audio, const VadOptions& vad) {
  auto regions = speech_regions(audio, vad);
  if (!regions) return std::move(regions).take_error();
  return !regions->empty();
}

}  // namespace scribepod::audio
