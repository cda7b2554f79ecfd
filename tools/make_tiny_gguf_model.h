// Tiny GGUF models with random weights, for tests and benchmarks of the
// llama.cpp engine (see make_tiny_gguf.cpp for the command line).
//
// Two architectures llama.cpp loads and runs:
//   - "llama": a decoder (64-wide, 2 layers, 4 heads, 2048-token training
//     context) with a ChatML chat template;
//   - "t5": an encoder-decoder (64-wide, 2+2 layers), so callers exercise
//     llama_encode() and llama_model_decoder_start_token(). No chat template.
// Both carry a real SentencePiece-style ("llama") vocabulary of about 700
// tokens: the 256 byte-fallback tokens <0x00>..<0xFF> (so any UTF-8 text
// tokenizes), single ASCII characters, common English words and JSON
// punctuation, plus <unk>, <s>, </s>, <|im_start|> and <|im_end|>. The
// weights are random: the text a model writes is noise, but its shapes,
// costs and token mechanics are real.
#pragma once

#include <cstdint>
#include <string>

namespace scribepod::tools {

enum class TinyGgufArch { kLlama, kT5 };

struct TinyGgufOptions {
  TinyGgufArch arch = TinyGgufArch::kLlama;
  std::uint64_t seed = 42;
  int n_embd = 64;
  int n_layer = 2;
  int n_head = 4;
  int n_head_kv = 0;  // llama only: key/value heads (grouped-query attention); 0 = n_head
  int n_ff = 128;
  int n_ctx_train = 2048;
};

// Writes the model to `path`. Returns "" on success, else what went wrong.
std::string write_tiny_gguf(const TinyGgufOptions& options, const std::string& path);

}  // namespace scribepod::tools
