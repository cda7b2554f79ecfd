// A whisper.cpp model file with random weights: the writer behind
// tools/make_tiny_whisper_model (see that file for what the files are for).
//
// The file is the legacy ggml format that whisper.cpp's whisper_model_load()
// reads and models/convert-pt-to-ggml.py writes: the magic 0x67676d6c, eleven
// int32 hyper-parameters, the mel filterbank, the vocabulary, then every
// tensor (n_dims, name length, type, dims innermost first, name, data) with
// exactly the names and shapes the loader expects. Only the weights are made
// up: a fixed-seed Gaussian, with a few directions planted in the decoder's
// embeddings (tiny_whisper_decoder_plan.h), so the same options give the same
// bytes.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace tiny_whisper {

struct Shape {
  std::string name;
  std::int32_t n_vocab = 51864;  // 51864: English-only; >= 51865: multilingual
  std::int32_t n_audio_ctx = 1500;
  std::int32_t n_audio_state = 0;
  std::int32_t n_audio_head = 0;
  std::int32_t n_audio_layer = 0;
  std::int32_t n_text_ctx = 448;
  std::int32_t n_text_state = 0;
  std::int32_t n_text_head = 0;
  std::int32_t n_text_layer = 0;
  std::int32_t n_mels = 80;
};

inline std::optional<Shape> shape_named(std::string_view name) {
  Shape s;
  s.name = std::string(name);
  if (name == "tiny") {
    s.n_audio_state = s.n_text_state = 384;
    s.n_audio_head = s.n_text_head = 6;
    s.n_audio_layer = s.n_text_layer = 4;
  } else if (name == "base") {
    s.n_audio_state = s.n_text_state = 512;
    s.n_audio_head = s.n_text_head = 8;
    s.n_audio_layer = s.n_text_layer = 6;
  } else if (name == "micro") {
    s.n_audio_state = s.n_text_state = 64;
    s.n_audio_head = s.n_text_head = 2;
    s.n_audio_layer = 2;
    s.n_text_layer = 3;
  } else {
    return std::nullopt;
  }
  return s;
}

// splitmix64 and Box-Muller: portable, so a seed gives the same file on every
// standard library (std::normal_distribution is implementation-defined).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1].
  double uniform() { return (static_cast<double>(next() >> 11) + 1.0) * 0x1.0p-53; }
  float normal(float stddev) {
    if (spare_) {
      spare_ = false;
      return static_cast<float>(spare_value_) * stddev;
    }
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    const double theta = 2.0 * std::numbers::pi * uniform();
    spare_value_ = r * std::sin(theta);
    spare_ = true;
    return static_cast<float>(r * std::cos(theta)) * stddev;
  }

 private:
  std::uint64_t state_;
  bool spare_ = false;
  double spare_value_ = 0;
};

// Writes the whole model. `say`: the words every window decodes to (empty:
// " tok1001 tok1004 ..."). Check the stream afterwards for write errors.
void write_model(std::ostream& out, const Shape& h, bool f16, std::uint64_t seed,
                 const std::vector<std::string>& say);

}  // namespace tiny_whisper
