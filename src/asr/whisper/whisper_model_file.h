// Checks a whisper.cpp model file before whisper.cpp is allowed to load it.
//
// whisper.cpp's loader trusts its input: on a truncated download it reads
// lengths it never received, on a file of the wrong kind it may allocate
// absurd sizes or stop the whole process on an internal assertion, and it
// accepts a file with no tensors at all as "an empty model for testing".
// inspect_whisper_model_file() walks the whole file first (the legacy ggml
// layout: magic, hyper-parameters, mel filters, vocabulary, then every tensor
// record) with bounds checks, skipping the tensor data, so it costs a few
// milliseconds even for a large model. A file that passes has exactly the
// tensors the loader will create for its hyper-parameters (names, shapes,
// sizes), each once and each with its data inside the file. whisper.cpp makes
// the name and shape checks too, but leaks the weights it had allocated when
// one fails.
//
// Every failure is kInvalidConfig (a model is configuration) with a message
// that names the path and says what is wrong.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace scribepod::asr {

struct WhisperModelInfo {
  std::int32_t n_vocab = 0;  // 51864: English-only; 51865, 51866 (large-v3): multilingual
  std::int32_t n_audio_ctx = 0;
  std::int32_t n_audio_state = 0;
  std::int32_t n_audio_head = 0;
  std::int32_t n_audio_layer = 0;
  std::int32_t n_text_ctx = 0;
  std::int32_t n_text_state = 0;
  std::int32_t n_text_head = 0;
  std::int32_t n_text_layer = 0;
  std::int32_t n_mels = 0;
  std::int32_t ftype = 0;  // without the quantization-version multiple of 1000
  bool multilingual = false;
  std::string size_name;   // "tiny", "base", "small", "medium", "large" (by depth) or "custom"
  std::string ftype_name;  // "f32", "f16", "q5_0", ...
  int tensors = 0;
  std::uint64_t file_bytes = 0;
};

Result<WhisperModelInfo> inspect_whisper_model_file(const std::string& path);

// The catalogue name to suggest in `scribepod models pull NAME` for a model
// path: "ggml-small.en.bin" -> "small.en"; "base.en" when the file name does
// not follow whisper.cpp's ggml-NAME.bin convention.
std::string whisper_model_pull_name(const std::string& path);

}  // namespace scribepod::asr
