// The decoder part of a random whisper model: which directions are planted
// in its token and positional embeddings, and why.
//
// The embeddings are random like everything else, with a few directions
// planted so that greedy decoding behaves like a real model on a short
// utterance. Purely random weights make the decoder repeat one token up to
// the 224-token limit, window after window, with every temperature fallback:
// a minute of work for micro on a 3 s input instead of milliseconds.
// Planted, in the otherwise random token (tied input/output) and positional
// embeddings:
//   - the last prompt token (SOT, or the task token of multilingual models)
//     points at "a timestamp near 0.2 s", so each window opens with <|0.20|>;
//   - the positions then cycle through a plan of period words+2: one position
//     per word (each points at one text token, " tok1001" ... or the --say
//     words), then "a timestamp near 1.8 s", which closes the segment, then
//     <|endoftext|>.
// The cycle makes the plan work whatever the prompt length (multilingual
// prompts, an initial prompt, the previous window's text carried as context),
// at the cost of entering it part-way: an English-only first window says all
// eight words, later windows fewer. The decoder blocks stay random but write
// back into the residual stream at reduced scale, so the audio (through
// cross-attention) still moves every probability a little without
// overturning the plan.
#pragma once

#include <cstddef>
#include <vector>

#include "tiny_whisper_model.h"

namespace tiny_whisper {

constexpr float kDecoderBranchScale = 0.3F;  // decoder residual branches' output scale
constexpr float kDecoderLnGain = 3.0F;       // decoder.ln.weight
constexpr int kDefaultWords = 8;

struct DecoderPlan {
  std::vector<float> token_embedding;       // n_vocab rows of n_text_state
  std::vector<float> positional_embedding;  // n_text_ctx rows of n_text_state
};

// Token ids the plan says, in order: " tok1001", " tok1004", ... (ids that
// are not multiples of 3, so their default text has a leading space).
std::vector<int> plan_word_ids(std::size_t count);

DecoderPlan plan_decoder(const Shape& h, const std::vector<int>& words, Rng& rng);

}  // namespace tiny_whisper
