// PcmAudio: what every decoder produces and every recogniser consumes:
// mono float samples in [-1, 1] at 16 kHz.
#pragma once

#include <cstddef>
#include <vector>

namespace scribepod::audio {

inline constexpr int kSampleRate = 16000;

struct PcmAudio {
  std::vector<float> samples;  // mono, kSampleRate Hz
  double duration_s() const { return static_cast<double>(samples.size()) / kSampleRate; }
};

}  // namespace scribepod::audio
