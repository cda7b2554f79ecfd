#include "tiny_whisper_decoder_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numbers>

namespace tiny_whisper {

std::vector<int> plan_word_ids(std::size_t count) {
  std::vector<int> ids;
  for (std::size_t k = 0; k < count; ++k) {
    ids.push_back(1001 + 3 * static_cast<int>(k));
  }
  return ids;
}

DecoderPlan plan_decoder(const Shape& h, const std::vector<int>& words, Rng& rng) {
  const auto n = static_cast<std::size_t>(h.n_text_state);
  const bool multilingual = h.n_vocab >= 51865;
  // Special token ids as whisper.cpp derives them from n_vocab.
  const int eot = multilingual ? 50257 : 50256;
  const int sot = eot + 1;
  const int shift = multilingual ? 1 : 0;  // one more language token
  const int translate = 50357 + shift;
  const int transcribe = 50358 + shift;
  const int beg = 50363 + shift;

  // Zero-mean unit directions (layer norm removes the mean), on disjoint
  // coordinate pairs so they are orthogonal.
  const auto direction = [&](std::size_t k) {
    std::vector<float> d(n, 0.0F);
    d[2 * k] = std::numbers::sqrt2_v<float> / 2;
    d[2 * k + 1] = -std::numbers::sqrt2_v<float> / 2;
    return d;
  };
  const std::vector<float> d_ts = direction(0);
  const std::vector<float> d_eot = direction(1);
  const std::vector<float> d_first = direction(2);  // "near 0.2 s"
  const std::vector<float> d_close = direction(3);  // "near 1.8 s"
  const auto add = [&](std::vector<float>& m, std::size_t row, const std::vector<float>& d,
                       float amount) {
    for (std::size_t i = 0; i < n; ++i) {
      m[row * n + i] += amount * d[i];
    }
  };
  // A tent: 1 at `centre` frames (20 ms each), 0 beyond +-50.
  const auto tent = [](int j, int centre) {
    return std::max(0.0F, 1.0F - static_cast<float>(std::abs(j - centre)) / 50.0F);
  };

  DecoderPlan plan;
  std::vector<float>& te = plan.token_embedding;
  te.resize(static_cast<std::size_t>(h.n_vocab) * n);
  const float text_std = 1.0F / std::sqrt(static_cast<float>(n));
  for (std::size_t row = 0; row < static_cast<std::size_t>(h.n_vocab); ++row) {
    const float stddev = row < static_cast<std::size_t>(eot) ? text_std : 0.02F;
    for (std::size_t i = 0; i < n; ++i) {
      te[row * n + i] = rng.normal(stddev);
    }
  }
  add(te, static_cast<std::size_t>(eot), d_eot, 1.0F);
  for (const int id : {sot, translate, transcribe}) {
    add(te, static_cast<std::size_t>(id), d_ts, 12.0F);
    add(te, static_cast<std::size_t>(id), d_first, 6.0F);
  }
  for (int id = beg; id < h.n_vocab; ++id) {
    const int j = id - beg;
    add(te, static_cast<std::size_t>(id), d_ts, 1.0F);
    add(te, static_cast<std::size_t>(id), d_first, tent(j, 10));
    add(te, static_cast<std::size_t>(id), d_close, tent(j, 90));
  }

  std::vector<float>& pe = plan.positional_embedding;
  pe.resize(static_cast<std::size_t>(h.n_text_ctx) * n);
  for (float& x : pe) {
    x = rng.normal(0.02F);
  }
  const std::size_t period = words.size() + 2;
  for (std::size_t pos = 1; pos < static_cast<std::size_t>(h.n_text_ctx); ++pos) {
    const std::size_t step = (pos - 1) % period;
    if (step < words.size()) {
      // Point at this step's word by the word's own (random) direction.
      const auto word = static_cast<std::size_t>(words[step]);
      std::vector<float> u(te.begin() + static_cast<std::ptrdiff_t>(word * n),
                           te.begin() + static_cast<std::ptrdiff_t>((word + 1) * n));
      float norm = 0;
      for (const float x : u) norm += x * x;
      norm = std::sqrt(norm);
      for (float& x : u) x /= norm;
      add(pe, pos, u, 6.0F);
    } else if (step == words.size()) {
      add(pe, pos, d_ts, 6.0F);
      add(pe, pos, d_close, 3.0F);
    } else {
      add(pe, pos, d_eot, 8.0F);
    }
  }
  return plan;
}

}  // namespace tiny_whisper
