#include "asr/whisper/whisper_model_file.h"

#include <ggml.h>

#include <algorithm>
#include <array>
#include <climits>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>

namespace scribepod::asr {
namespace {

constexpr std::uint32_t kGgmlMagic = 0x67676d6c;    // "ggml", little-endian
constexpr std::int32_t kQuantVersionFactor = 1000;  // GGML_QNT_VERSION_FACTOR
constexpr std::int32_t kFftBins = 201;              // 1 + WHISPER_N_FFT / 2
// whisper.cpp works in 30 s windows of 3000 mel frames, 1500 after the
// encoder's stride-2 convolution; every released model has exactly this.
constexpr std::int32_t kAudioCtx = 1500;

// The file types whisper.cpp's loader maps to a weight type. Any other value
// (including the removed Q4_1_SOME_F16) trips a GGML_ASSERT inside it.
std::optional<ggml_type> weight_type_of(std::int32_t ftype) {
  switch (ftype) {
    case 0:
      return GGML_TYPE_F32;
    case 1:
      return GGML_TYPE_F16;
    case 2:
      return GGML_TYPE_Q4_0;
    case 3:
      return GGML_TYPE_Q4_1;
    case 7:
      return GGML_TYPE_Q8_0;
    case 8:
      return GGML_TYPE_Q5_0;
    case 9:
      return GGML_TYPE_Q5_1;
    case 10:
      return GGML_TYPE_Q2_K;
    case 11:
      return GGML_TYPE_Q3_K;
    case 12:
      return GGML_TYPE_Q4_K;
    case 13:
      return GGML_TYPE_Q5_K;
    case 14:
      return GGML_TYPE_Q6_K;
    default:
      return std::nullopt;
  }
}

std::string size_name_of(std::int32_t n_audio_layer) {
  switch (n_audio_layer) {
    case 4:
      return "tiny";
    case 6:
      return "base";
    case 12:
      return "small";
    case 24:
      return "medium";
    case 32:
      return "large";
    default:
      return "custom";
  }
}

struct ExpectedTensor {
  std::array<std::int64_t, 4> ne{1, 1, 1, 1};
  ggml_type type = GGML_TYPE_F32;
};

// Every tensor whisper_model_load() creates for these hyper-parameters, with
// its shape (innermost first) and type: matrices take the file's weight type,
// convolution kernels f16 (f32 in an f32 file), everything else f32.
std::map<std::string, ExpectedTensor> expected_tensors(const WhisperModelInfo& h, ggml_type wtype) {
  const ggml_type vtype = wtype == GGML_TYPE_F32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
  std::map<std::string, ExpectedTensor> m;
  const auto add = [&](const std::string& name, std::initializer_list<std::int64_t> dims,
                       ggml_type type) {
    ExpectedTensor t;
    std::copy(dims.begin(), dims.end(), t.ne.begin());
    t.type = type;
    m[name] = t;
  };
  const auto block = [&](const std::string& prefix, std::int64_t n, bool cross) {
    for (const char* attn : {"attn", "cross_attn"}) {
      if (std::string_view(attn) == "cross_attn" && !cross) continue;
      const std::string a = prefix + attn;
      add(a + "_ln.weight", {n}, GGML_TYPE_F32);
      add(a + "_ln.bias", {n}, GGML_TYPE_F32);
      add(a + ".query.weight", {n, n}, wtype);
      add(a + ".query.bias", {n}, GGML_TYPE_F32);
      add(a + ".key.weight", {n, n}, wtype);
      add(a + ".value.weight", {n, n}, wtype);
      add(a + ".value.bias", {n}, GGML_TYPE_F32);
      add(a + ".out.weight", {n, n}, wtype);
      add(a + ".out.bias", {n}, GGML_TYPE_F32);
    }
    add(prefix + "mlp_ln.weight", {n}, GGML_TYPE_F32);
    add(prefix + "mlp_ln.bias", {n}, GGML_TYPE_F32);
    add(prefix + "mlp.0.weight", {n, 4 * n}, wtype);
    add(prefix + "mlp.0.bias", {4 * n}, GGML_TYPE_F32);
    add(prefix + "mlp.2.weight", {4 * n, n}, wtype);
    add(prefix + "mlp.2.bias", {n}, GGML_TYPE_F32);
  };
  const std::int64_t a = h.n_audio_state;
  add("encoder.positional_embedding", {a, h.n_audio_ctx}, GGML_TYPE_F32);
  add("encoder.conv1.weight", {3, h.n_mels, a}, vtype);
  add("encoder.conv1.bias", {1, a}, GGML_TYPE_F32);
  add("encoder.conv2.weight", {3, a, a}, vtype);
  add("encoder.conv2.bias", {1, a}, GGML_TYPE_F32);
  add("encoder.ln_post.weight", {a}, GGML_TYPE_F32);
  add("encoder.ln_post.bias", {a}, GGML_TYPE_F32);
  for (int i = 0; i < h.n_audio_layer; ++i) {
    block("encoder.blocks." + std::to_string(i) + ".", a, false);
  }
  const std::int64_t t = h.n_text_state;
  add("decoder.positional_embedding", {t, h.n_text_ctx}, GGML_TYPE_F32);
  add("decoder.token_embedding.weight", {t, h.n_vocab}, wtype);
  add("decoder.ln.weight", {t}, GGML_TYPE_F32);
  add("decoder.ln.bias", {t}, GGML_TYPE_F32);
  for (int i = 0; i < h.n_text_layer; ++i) {
    block("decoder.blocks." + std::to_string(i) + ".", t, true);
  }
  return m;
}

std::string shape_text(const std::array<std::int64_t, 4>& ne) {
  std::string s = std::to_string(ne[0]);
  for (std::size_t i = 1; i < ne.size(); ++i) {
    if (ne[i] != 1) s += "x" + std::to_string(ne[i]);
  }
  return s;
}

// Sequential reader that never reads past the end it was told about.
class BoundedReader {
 public:
  BoundedReader(std::ifstream& in, std::uint64_t size) : in_(in), size_(size) {}

  std::uint64_t pos() const { return pos_; }
  std::uint64_t remaining() const { return size_ - pos_; }

  bool i32(std::int32_t& out) {
    if (remaining() < sizeof out || !in_.read(reinterpret_cast<char*>(&out), sizeof out)) {
      return false;
    }
    pos_ += sizeof out;
    return true;
  }
  bool bytes(std::string& out, std::uint64_t n) {
    if (remaining() < n) {
      return false;
    }
    out.resize(n);
    if (n > 0 && !in_.read(out.data(), static_cast<std::streamsize>(n))) {
      return false;
    }
    pos_ += n;
    return true;
  }
  bool skip(std::uint64_t n) {
    if (remaining() < n) {
      return false;
    }
    pos_ += n;
    return static_cast<bool>(in_.seekg(static_cast<std::streamoff>(pos_)));
  }

 private:
  std::ifstream& in_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
};

class Inspector {
 public:
  explicit Inspector(std::string path) : path_(std::move(path)) {}

  Result<WhisperModelInfo> run();

 private:
  Error fail(std::string_view what) const {
    return Error::invalid_config(
        "whisper model " + path_ + " is not a usable whisper.cpp model: " + std::string(what) +
        "; download it again with `scribepod models pull " + whisper_model_pull_name(path_) + "`");
  }
  Error truncated(BoundedReader& r, std::string_view where) const {
    return fail("the file ends early (" + std::to_string(r.pos()) + " of " +
                std::to_string(info_.file_bytes) + " bytes, in " + std::string(where) +
                "); a download may have been cut short");
  }
  Status header(BoundedReader& r);
  Status filters_and_vocab(BoundedReader& r);
  Status tensors(BoundedReader& r);

  std::string path_;
  WhisperModelInfo info_;
  ggml_type wtype_ = GGML_TYPE_F32;
};

Status Inspector::header(BoundedReader& r) {
  std::int32_t magic = 0;
  if (!r.i32(magic)) {
    return fail("the file is too short to be a model (" + std::to_string(info_.file_bytes) +
                " bytes)");
  }
  if (static_cast<std::uint32_t>(magic) != kGgmlMagic) {
    return fail("it does not start with the ggml magic (is it a GGUF, PyTorch or other file?)");
  }
  WhisperModelInfo& h = info_;
  for (std::int32_t* field :
       {&h.n_vocab, &h.n_audio_ctx, &h.n_audio_state, &h.n_audio_head, &h.n_audio_layer,
        &h.n_text_ctx, &h.n_text_state, &h.n_text_head, &h.n_text_layer, &h.n_mels, &h.ftype}) {
    if (!r.i32(*field)) {
      return truncated(r, "the hyper-parameters");
    }
  }
  const auto bad = [&](std::string_view name, std::int32_t value) {
    return fail("implausible hyper-parameter " + std::string(name) + " = " + std::to_string(value));
  };
  if (h.n_vocab < 51864 || h.n_vocab > 51866) return bad("n_vocab", h.n_vocab);
  if (h.n_audio_ctx != kAudioCtx) return bad("n_audio_ctx", h.n_audio_ctx);
  if (h.n_text_ctx < 16 || h.n_text_ctx > 448) return bad("n_text_ctx", h.n_text_ctx);
  if (h.n_mels != 80 && h.n_mels != 128) return bad("n_mels", h.n_mels);
  if (h.n_audio_state < 1 || h.n_audio_state > 8192) return bad("n_audio_state", h.n_audio_state);
  if (h.n_text_state != h.n_audio_state) return bad("n_text_state", h.n_text_state);
  if (h.n_audio_layer < 1 || h.n_audio_layer > 64) return bad("n_audio_layer", h.n_audio_layer);
  if (h.n_text_layer < 1 || h.n_text_layer > 64) return bad("n_text_layer", h.n_text_layer);
  if (h.n_audio_head < 1 || h.n_audio_state % h.n_audio_head != 0) {
    return bad("n_audio_head", h.n_audio_head);
  }
  if (h.n_text_head < 1 || h.n_text_state % h.n_text_head != 0) {
    return bad("n_text_head", h.n_text_head);
  }
  h.ftype = h.ftype % kQuantVersionFactor;
  const std::optional<ggml_type> wtype = weight_type_of(h.ftype);
  if (h.ftype < 0 || !wtype) {
    return bad("ftype", h.ftype);
  }
  wtype_ = *wtype;
  if (h.n_audio_state % ggml_blck_size(wtype_) != 0) {
    return fail("its quantization (" + std::string(ggml_type_name(wtype_)) +
                ") does not fit the model width " + std::to_string(h.n_audio_state));
  }
  h.multilingual = h.n_vocab >= 51865;
  h.size_name = size_name_of(h.n_audio_layer);
  h.ftype_name = ggml_type_name(wtype_);
  return {};
}

Status Inspector::filters_and_vocab(BoundedReader& r) {
  std::int32_t n_mel = 0;
  std::int32_t n_fft = 0;
  if (!r.i32(n_mel) || !r.i32(n_fft)) {
    return truncated(r, "the mel filters");
  }
  if (n_mel != info_.n_mels || n_fft != kFftBins) {
    return fail("its mel filterbank is " + std::to_string(n_mel) + "x" + std::to_string(n_fft) +
                ", expected " + std::to_string(info_.n_mels) + "x" + std::to_string(kFftBins));
  }
  if (!r.skip(static_cast<std::uint64_t>(n_mel) * static_cast<std::uint64_t>(n_fft) * 4)) {
    return truncated(r, "the mel filters");
  }
  std::int32_t n_tokens = 0;
  if (!r.i32(n_tokens)) {
    return truncated(r, "the vocabulary");
  }
  if (n_tokens < 0 || n_tokens > info_.n_vocab) {
    return fail("its vocabulary has " + std::to_string(n_tokens) + " entries for n_vocab " +
                std::to_string(info_.n_vocab));
  }
  std::string token;
  for (std::int32_t i = 0; i < n_tokens; ++i) {
    std::int32_t len = 0;
    if (!r.i32(len)) {
      return truncated(r, "the vocabulary");
    }
    // Real tokens are at most a few dozen bytes.
    if (len < 0 || len > 1024) {
      return fail("vocabulary entry " + std::to_string(i) + " has length " + std::to_string(len));
    }
    if (!r.bytes(token, static_cast<std::uint64_t>(len))) {
      return truncated(r, "the vocabulary");
    }
  }
  return {};
}

Status Inspector::tensors(BoundedReader& r) {
  const std::map<std::string, ExpectedTensor> expected = expected_tensors(info_, wtype_);
  std::set<std::string> seen;
  std::string name;
  while (r.remaining() > 0) {
    std::int32_t n_dims = 0;
    std::int32_t name_len = 0;
    std::int32_t ttype = 0;
    if (!r.i32(n_dims) || !r.i32(name_len) || !r.i32(ttype)) {
      return truncated(r, "the header of tensor " + std::to_string(seen.size() + 1));
    }
    if (n_dims < 1 || n_dims > 4 || name_len < 1 || name_len > 256 || ttype < 0 ||
        ttype >= GGML_TYPE_COUNT) {
      return fail("tensor record " + std::to_string(seen.size() + 1) + " at byte " +
                  std::to_string(r.pos() - 12) + " is malformed");
    }
    const auto type = static_cast<ggml_type>(ttype);
    const std::int64_t block = ggml_blck_size(type);
    const std::size_t type_size = ggml_type_size(type);
    std::array<std::int64_t, 4> ne{1, 1, 1, 1};
    std::int64_t elements = 1;
    for (int i = 0; i < n_dims; ++i) {
      std::int32_t d = 0;
      if (!r.i32(d)) {
        return truncated(r, "the header of tensor " + std::to_string(seen.size() + 1));
      }
      ne[static_cast<std::size_t>(i)] = d;
      if (d < 1) {
        return fail("tensor record " + std::to_string(seen.size() + 1) + " has dimension " +
                    std::to_string(d));
      }
      elements *= d;
      if (elements > INT32_MAX) {  // the loader counts elements in an int32
        return fail("tensor record " + std::to_string(seen.size() + 1) + " is too large");
      }
    }
    if (!r.bytes(name, static_cast<std::uint64_t>(name_len))) {
      return truncated(r, "the name of tensor " + std::to_string(seen.size() + 1));
    }
    if (block <= 0 || type_size == 0 || ne[0] % block != 0) {
      return fail("tensor '" + name + "' has an unusable type " + std::to_string(ttype));
    }
    if (!seen.insert(name).second) {
      return fail("tensor '" + name + "' appears twice");
    }
    // The checks whisper_model_load() makes, made here first: its failure
    // path leaks the weights it had allocated.
    const auto want = expected.find(name);
    if (want == expected.end()) {
      return fail("it has an unexpected tensor '" + name + "'");
    }
    if (want->second.ne != ne) {
      return fail("tensor '" + name + "' has shape " + shape_text(ne) + ", expected " +
                  shape_text(want->second.ne));
    }
    const auto data_bytes =
        static_cast<std::uint64_t>(elements / block) * static_cast<std::uint64_t>(type_size);
    const ggml_type want_type = want->second.type;
    if (data_bytes != static_cast<std::uint64_t>(elements / ggml_blck_size(want_type)) *
                          static_cast<std::uint64_t>(ggml_type_size(want_type))) {
      return fail("tensor '" + name + "' is stored as " + ggml_type_name(type) + ", expected " +
                  ggml_type_name(want_type));
    }
    if (!r.skip(data_bytes)) {
      return truncated(r, "the data of tensor '" + name + "'");
    }
  }
  if (seen.size() != expected.size()) {
    return fail("it has " + std::to_string(seen.size()) + " tensors, a model of this shape has " +
                std::to_string(expected.size()));
  }
  info_.tensors = static_cast<int>(expected.size());
  return {};
}

Result<WhisperModelInfo> Inspector::run() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    return fail("it cannot be opened");
  }
  std::error_code ec;
  info_.file_bytes = std::filesystem::file_size(path_, ec);
  if (ec) {
    return fail("its size cannot be read (" + ec.message() + ")");
  }
  BoundedReader r(in, info_.file_bytes);
  for (Status (Inspector::*step)(BoundedReader&) :
       {&Inspector::header, &Inspector::filters_and_vocab, &Inspector::tensors}) {
    Status s = (this->*step)(r);
    if (!s) {
      return std::move(s).take_error();
    }
  }
  return info_;
}

}  // namespace

Result<WhisperModelInfo> inspect_whisper_model_file(const std::string& path) {
  return Inspector(path).run();
}

std::string whisper_model_pull_name(const std::string& path) {
  const std::string file = std::filesystem::path(path).filename().string();
  constexpr std::string_view kPrefix = "ggml-";
  constexpr std::string_view kSuffix = ".bin";
  if (file.size() > kPrefix.size() + kSuffix.size() && file.starts_with(kPrefix) &&
      file.ends_with(kSuffix)) {
    return file.substr(kPrefix.size(), file.size() - kPrefix.size() - kSuffix.size());
  }
  return "base.en";
}

}  // namespace scribepod::asr
