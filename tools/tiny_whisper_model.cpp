#include "tiny_whisper_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "tiny_whisper_decoder_plan.h"

namespace tiny_whisper {
namespace {

// IEEE 754 binary32 -> binary16, round to nearest even (ggml_fp32_to_fp16's
// result for finite inputs; the weights here are always finite and small).
std::uint16_t to_half(float f) {
  std::uint32_t x = 0;
  std::memcpy(&x, &f, sizeof x);
  const std::uint32_t sign = (x >> 16) & 0x8000U;
  const std::uint32_t abs = x & 0x7FFFFFFFU;
  if (abs >= 0x47800000U) {  // overflow (or inf/nan): saturate to inf
    return static_cast<std::uint16_t>(sign | 0x7C00U);
  }
  if (abs < 0x38800000U) {  // subnormal half or zero
    const float magnitude = std::fabs(f);
    const auto sub =
        static_cast<std::uint32_t>(std::nearbyint(magnitude * 16777216.0F));  // / 2^-24
    return static_cast<std::uint16_t>(sign | sub);
  }
  const std::uint32_t mantissa_round = abs + 0xFFFU + ((abs >> 13) & 1U);
  return static_cast<std::uint16_t>(sign | ((mantissa_round - 0x38000000U) >> 13));
}

enum class Init { kZeros, kOnes, kGaussian, kSinusoids };

class ModelWriter {
 public:
  ModelWriter(std::ostream& out, bool f16, std::uint64_t seed) : out_(out), f16_(f16), rng_(seed) {}

  void i32(std::int32_t v) { out_.write(reinterpret_cast<const char*>(&v), sizeof v); }
  void f32s(const std::vector<float>& v) {
    out_.write(reinterpret_cast<const char*>(v.data()),
               static_cast<std::streamsize>(v.size() * sizeof(float)));
  }
  void bytes(std::string_view s) { out_.write(s.data(), static_cast<std::streamsize>(s.size())); }

  // One tensor record. dims are in ggml order (innermost first), which is
  // the order the file stores them. `big` tensors (matrices and convolution
  // kernels) take the file's ftype; the loader keeps the rest in f32.
  void tensor(const std::string& name, const std::vector<std::int32_t>& dims, bool big, Init init,
              float stddev = 0.0F) {
    std::size_t n = 1;
    for (const std::int32_t d : dims) {
      n *= static_cast<std::size_t>(d);
    }
    std::vector<float> data(n, init == Init::kOnes ? 1.0F : 0.0F);
    if (init == Init::kGaussian) {
      for (float& x : data) {
        x = rng_.normal(stddev);
      }
    } else if (init == Init::kSinusoids) {
      fill_sinusoids(data, dims.at(0), dims.at(1));
    }
    tensor(name, dims, big, data);
  }

  void tensor(const std::string& name, const std::vector<std::int32_t>& dims, bool big,
              const std::vector<float>& data) {
    const bool as_f16 = big && f16_;
    i32(static_cast<std::int32_t>(dims.size()));
    i32(static_cast<std::int32_t>(name.size()));
    i32(as_f16 ? 1 : 0);  // GGML_TYPE_F16 : GGML_TYPE_F32
    for (const std::int32_t d : dims) {
      i32(d);
    }
    bytes(name);
    if (as_f16) {
      std::vector<std::uint16_t> half(data.size());
      std::transform(data.begin(), data.end(), half.begin(), to_half);
      out_.write(reinterpret_cast<const char*>(half.data()),
                 static_cast<std::streamsize>(half.size() * sizeof(std::uint16_t)));
    } else {
      f32s(data);
    }
    ++tensors_;
  }

  Rng& rng() { return rng_; }

  int tensors() const { return tensors_; }

 private:
  // whisper's encoder positional embedding: sin for the first half of the
  // channels, cos for the second, geometric timescales up to 10000.
  static void fill_sinusoids(std::vector<float>& data, std::int32_t channels, std::int32_t length) {
    const int half = channels / 2;
    const double increment = std::log(10000.0) / std::max(1, half - 1);
    for (int t = 0; t < length; ++t) {
      for (int c = 0; c < half; ++c) {
        const double angle = t * std::exp(-increment * c);
        const auto row = static_cast<std::size_t>(t) * static_cast<std::size_t>(channels);
        data[row + static_cast<std::size_t>(c)] = static_cast<float>(std::sin(angle));
        data[row + static_cast<std::size_t>(c + half)] = static_cast<float>(std::cos(angle));
      }
    }
  }

  std::ostream& out_;
  bool f16_;
  Rng rng_;
  int tensors_ = 0;
};

// Slaney-style mel filterbank (librosa.filters.mel(sr=16000, n_fft=400,
// n_mels), the defaults whisper's mel_filters.npz was made with):
// n_mels rows of 201 FFT-bin weights.
std::vector<float> mel_filters(int n_mels) {
  constexpr int kFftBins = 201;
  constexpr double kSampleRate = 16000;
  const auto hz_to_mel = [](double hz) {
    constexpr double kLinear = 200.0 / 3.0;
    return hz < 1000.0 ? hz / kLinear : 15.0 + std::log(hz / 1000.0) / (std::log(6.4) / 27.0);
  };
  const auto mel_to_hz = [](double mel) {
    constexpr double kLinear = 200.0 / 3.0;
    return mel < 15.0 ? mel * kLinear : 1000.0 * std::exp((std::log(6.4) / 27.0) * (mel - 15.0));
  };
  const double mel_max = hz_to_mel(kSampleRate / 2);
  std::vector<double> edges(static_cast<std::size_t>(n_mels + 2));
  for (std::size_t i = 0; i < edges.size(); ++i) {
    edges[i] = mel_to_hz(mel_max * static_cast<double>(i) / static_cast<double>(n_mels + 1));
  }
  std::vector<float> weights(static_cast<std::size_t>(n_mels) * kFftBins, 0.0F);
  for (std::size_t m = 0; m < static_cast<std::size_t>(n_mels); ++m) {
    const double lo = edges[m];
    const double mid = edges[m + 1];
    const double hi = edges[m + 2];
    const double norm = 2.0 / (hi - lo);
    for (std::size_t k = 0; k < kFftBins; ++k) {
      const double f = (kSampleRate / 2) * static_cast<double>(k) / (kFftBins - 1);
      const double w = std::max(0.0, std::min((f - lo) / (mid - lo), (hi - f) / (hi - mid)));
      weights[m * kFftBins + k] = static_cast<float>(w * norm);
    }
  }
  return weights;
}

// The byte-level BPE vocabulary has 50256 entries in gpt2.tiktoken
// (English-only models) and 50257 in multilingual.tiktoken; whisper.cpp adds
// the special tokens itself up to n_vocab. Ids 0..255 are the single bytes,
// as in GPT-2, so any prompt can be tokenized; the rest are readable stand-ins
// (" tok300", "tok301", ...), most with a leading space like real word tokens.
void write_vocab(ModelWriter& w, bool multilingual, const std::map<int, std::string>& overrides) {
  const int count = multilingual ? 50257 : 50256;
  w.i32(count);
  for (int i = 0; i < count; ++i) {
    std::string token;
    if (const auto it = overrides.find(i); it != overrides.end()) {
      token = it->second;
    } else if (i < 256) {
      token.assign(1, static_cast<char>(i));
    } else if (multilingual && i == 50256) {
      token = "<|endoftext|>";
    } else {
      token = (i % 3 == 0 ? "tok" : " tok") + std::to_string(i);
    }
    w.i32(static_cast<std::int32_t>(token.size()));
    w.bytes(token);
  }
}

// One transformer block. out_scale shrinks the projections that write back
// into the residual stream (attention out, MLP second layer).
void write_block(ModelWriter& w, const std::string& prefix, std::int32_t n, bool cross,
                 float out_scale) {
  const float s = 1.0F / std::sqrt(static_cast<float>(n));
  const float s4 = out_scale / std::sqrt(static_cast<float>(4 * n));
  const auto attention = [&](const std::string& attn, const std::string& ln) {
    w.tensor(prefix + ln + ".weight", {n}, false, Init::kOnes);
    w.tensor(prefix + ln + ".bias", {n}, false, Init::kZeros);
    w.tensor(prefix + attn + ".query.weight", {n, n}, true, Init::kGaussian, s);
    w.tensor(prefix + attn + ".query.bias", {n}, false, Init::kGaussian, 0.02F);
    w.tensor(prefix + attn + ".key.weight", {n, n}, true, Init::kGaussian, s);
    w.tensor(prefix + attn + ".value.weight", {n, n}, true, Init::kGaussian, s);
    w.tensor(prefix + attn + ".value.bias", {n}, false, Init::kGaussian, 0.02F);
    w.tensor(prefix + attn + ".out.weight", {n, n}, true, Init::kGaussian, s * out_scale);
    w.tensor(prefix + attn + ".out.bias", {n}, false, Init::kGaussian, 0.02F);
  };
  attention("attn", "attn_ln");
  if (cross) {
    attention("cross_attn", "cross_attn_ln");
  }
  w.tensor(prefix + "mlp_ln.weight", {n}, false, Init::kOnes);
  w.tensor(prefix + "mlp_ln.bias", {n}, false, Init::kZeros);
  w.tensor(prefix + "mlp.0.weight", {n, 4 * n}, true, Init::kGaussian, s);
  w.tensor(prefix + "mlp.0.bias", {4 * n}, false, Init::kGaussian, 0.02F);
  w.tensor(prefix + "mlp.2.weight", {4 * n, n}, true, Init::kGaussian, s4);
  w.tensor(prefix + "mlp.2.bias", {n}, false, Init::kGaussian, 0.02F);
}

}  // namespace

void write_model(std::ostream& out, const Shape& h, bool f16, std::uint64_t seed,
                 const std::vector<std::string>& say) {
  const std::vector<int> words = plan_word_ids(say.empty() ? kDefaultWords : say.size());
  std::map<int, std::string> vocab_overrides;
  for (std::size_t k = 0; k < say.size(); ++k) {
    vocab_overrides[words[k]] = " " + say[k];
  }
  ModelWriter w(out, f16, seed);
  w.i32(0x67676d6c);  // "ggml"
  for (const std::int32_t v :
       {h.n_vocab, h.n_audio_ctx, h.n_audio_state, h.n_audio_head, h.n_audio_layer, h.n_text_ctx,
        h.n_text_state, h.n_text_head, h.n_text_layer, h.n_mels}) {
    w.i32(v);
  }
  w.i32(f16 ? 1 : 0);  // ftype: GGML_FTYPE_MOSTLY_F16 : GGML_FTYPE_ALL_F32

  w.i32(h.n_mels);
  w.i32(201);  // 1 + WHISPER_N_FFT / 2
  w.f32s(mel_filters(h.n_mels));

  write_vocab(w, h.n_vocab >= 51865, vocab_overrides);

  const std::int32_t a = h.n_audio_state;
  w.tensor("encoder.positional_embedding", {a, h.n_audio_ctx}, false, Init::kSinusoids);
  w.tensor("encoder.conv1.weight", {3, h.n_mels, a}, true, Init::kGaussian,
           1.0F / std::sqrt(3.0F * static_cast<float>(h.n_mels)));
  w.tensor("encoder.conv1.bias", {1, a}, false, Init::kGaussian, 0.02F);
  w.tensor("encoder.conv2.weight", {3, a, a}, true, Init::kGaussian,
           1.0F / std::sqrt(3.0F * static_cast<float>(a)));
  w.tensor("encoder.conv2.bias", {1, a}, false, Init::kGaussian, 0.02F);
  for (int i = 0; i < h.n_audio_layer; ++i) {
    write_block(w, "encoder.blocks." + std::to_string(i) + ".", a, false, 1.0F);
  }
  w.tensor("encoder.ln_post.weight", {a}, false, Init::kOnes);
  w.tensor("encoder.ln_post.bias", {a}, false, Init::kZeros);

  const std::int32_t t = h.n_text_state;
  const DecoderPlan plan = plan_decoder(h, words, w.rng());
  w.tensor("decoder.token_embedding.weight", {t, h.n_vocab}, true, plan.token_embedding);
  w.tensor("decoder.positional_embedding", {t, h.n_text_ctx}, false, plan.positional_embedding);
  for (int i = 0; i < h.n_text_layer; ++i) {
    write_block(w, "decoder.blocks." + std::to_string(i) + ".", t, true, kDecoderBranchScale);
  }
  w.tensor("decoder.ln.weight", std::vector<std::int32_t>{t}, false,
           std::vector<float>(static_cast<std::size_t>(t), kDecoderLnGain));
  w.tensor("decoder.ln.bias", {t}, false, Init::kZeros);
}

}  // namespace tiny_whisper
