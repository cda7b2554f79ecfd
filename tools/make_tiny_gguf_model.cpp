// Writes the tiny GGUF models described in make_tiny_gguf_model.h with
// ggml's gguf API. Key and tensor names follow llama.cpp's llama-arch.cpp.
#include "make_tiny_gguf_model.h"

#include <ggml.h>
#include <gguf.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace scribepod::tools {
namespace {

// llama.cpp's token types (llama_token_type in llama.h).
constexpr std::int32_t kTypeNormal = 1;
constexpr std::int32_t kTypeUnknown = 2;
constexpr std::int32_t kTypeControl = 3;
constexpr std::int32_t kTypeByte = 6;

constexpr std::uint32_t kImEndId = 260;

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<std::int32_t> types;

  void add(std::string text, float score, std::int32_t type) {
    tokens.push_back(std::move(text));
    scores.push_back(score);
    types.push_back(type);
  }
};

// SentencePiece merges two adjacent pieces only when their concatenation is
// in the vocabulary, so every word comes with all of its prefixes; longer
// pieces score higher and win.
Vocab make_vocab() {
  Vocab v;
  v.add("<unk>", 0.0F, kTypeUnknown);
  v.add("<s>", 0.0F, kTypeControl);
  v.add("</s>", 0.0F, kTypeControl);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    v.add(name, 0.0F, kTypeByte);
  }
  v.add("<|im_start|>", 0.0F, kTypeControl);  // id 259
  v.add("<|im_end|>", 0.0F, kTypeControl);    // id 260 == kImEndId

  const std::string space = "\xE2\x96\x81";  // U+2581, SentencePiece's word start
  std::set<std::string> seen;
  auto add_piece = [&](const std::string& piece) {
    if (seen.insert(piece).second) {
      v.add(piece, static_cast<float>(piece.size()), kTypeNormal);
    }
  };
  add_piece(space);
  for (char c = 0x21; c < 0x7F; ++c) {
    add_piece(std::string(1, c));
  }
  const char* words[] = {
      "the",    "and",      "you",      "that",  "was",    "for",      "are",    "with",
      "his",    "they",     "this",     "have",  "from",   "one",      "had",    "word",
      "but",    "not",      "what",     "all",   "were",   "when",     "your",   "can",
      "said",   "there",    "use",      "each",  "which",  "she",      "how",    "their",
      "will",   "other",    "about",    "out",   "many",   "then",     "them",   "these",
      "some",   "her",      "would",    "make",  "like",   "him",      "into",   "time",
      "has",    "look",     "two",      "more",  "write",  "see",      "number", "way",
      "could",  "people",   "than",     "first", "water",  "been",     "call",   "who",
      "now",    "find",     "long",     "down",  "day",    "did",      "get",    "come",
      "made",   "may",      "part",     "hello", "person", "question", "user",   "speaker",
      "intent", "thoughts", "response", "extra", "state",  "is",       "it",     "in",
      "of",     "to",       "a",        "I",     "we",     "do",       "go",     "forward",
      "ten",    "meters",   "podcast",  "happy", "help",   "think",    "know",   "want"};
  for (const char* word : words) {
    const std::string w = word;
    for (std::size_t n = 1; n <= w.size(); ++n) {
      add_piece(space + w.substr(0, n));
      if (n >= 2) {
        add_piece(w.substr(0, n));
      }
    }
  }
  for (const char* punct : {"\":", "\",", "{\"", "\"}", ",\"", "\":\"", "\"]", "[\"", "\\n"}) {
    add_piece(punct);
  }
  return v;
}

// A ggml context that owns every tensor's data until the file is written.
struct Tensors {
  ggml_context* ctx = nullptr;
  gguf_context* gguf = nullptr;
  std::mt19937_64 rng;

  void add(const std::string& name, std::vector<std::int64_t> shape, float fill_or_nan) {
    ggml_tensor* t = shape.size() == 1 ? ggml_new_tensor_1d(ctx, GGML_TYPE_F32, shape[0])
                                       : ggml_new_tensor_2d(ctx, GGML_TYPE_F32, shape[0], shape[1]);
    ggml_set_name(t, name.c_str());
    auto* data = static_cast<float*>(t->data);
    const auto n = static_cast<std::size_t>(ggml_nelements(t));
    std::uniform_real_distribution<float> dist(-0.15F, 0.15F);
    for (std::size_t i = 0; i < n; ++i) {
      data[i] = std::isnan(fill_or_nan) ? dist(rng) : fill_or_nan;
    }
    gguf_add_tensor(gguf, t);
  }
  void random(const std::string& name, std::vector<std::int64_t> shape) {
    add(name, std::move(shape), std::numeric_limits<float>::quiet_NaN());
  }
  void ones(const std::string& name, std::int64_t n) { add(name, {n}, 1.0F); }
};

void set_vocab(gguf_context* g, const Vocab& v, bool chatml, bool add_bos, bool add_eos) {
  std::vector<const char*> texts;
  texts.reserve(v.tokens.size());
  for (const auto& t : v.tokens) {
    texts.push_back(t.c_str());
  }
  gguf_set_val_str(g, "tokenizer.ggml.model", "llama");
  gguf_set_arr_str(g, "tokenizer.ggml.tokens", texts.data(), texts.size());
  gguf_set_arr_data(g, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, v.scores.data(),
                    v.scores.size());
  gguf_set_arr_data(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v.types.data(),
                    v.types.size());
  gguf_set_val_u32(g, "tokenizer.ggml.unknown_token_id", 0);
  gguf_set_val_u32(g, "tokenizer.ggml.bos_token_id", 1);
  gguf_set_val_u32(g, "tokenizer.ggml.eos_token_id", chatml ? kImEndId : 2);
  gguf_set_val_bool(g, "tokenizer.ggml.add_bos_token", add_bos);
  gguf_set_val_bool(g, "tokenizer.ggml.add_eos_token", add_eos);
  if (chatml) {
    gguf_set_val_str(g, "tokenizer.chat_template",
                     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                     "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if "
                     "add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");
  }
}

void set_u32(gguf_context* g, const std::string& arch, const char* key, int value) {
  gguf_set_val_u32(g, (arch + "." + key).c_str(), static_cast<std::uint32_t>(value));
}

void add_llama(const TinyGgufOptions& o, std::int64_t n_vocab, Tensors& t) {
  const std::int64_t e = o.n_embd;
  const std::int64_t ff = o.n_ff;
  const std::int64_t e_kv = e / o.n_head * (o.n_head_kv > 0 ? o.n_head_kv : o.n_head);
  t.random("token_embd.weight", {e, n_vocab});
  t.ones("output_norm.weight", e);
  t.random("output.weight", {e, n_vocab});
  for (int i = 0; i < o.n_layer; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    t.ones(b + "attn_norm.weight", e);
    t.random(b + "attn_q.weight", {e, e});
    t.random(b + "attn_k.weight", {e, e_kv});
    t.random(b + "attn_v.weight", {e, e_kv});
    t.random(b + "attn_output.weight", {e, e});
    t.ones(b + "ffn_norm.weight", e);
    t.random(b + "ffn_gate.weight", {e, ff});
    t.random(b + "ffn_down.weight", {ff, e});
    t.random(b + "ffn_up.weight", {e, ff});
  }
}

void add_t5(const TinyGgufOptions& o, std::int64_t n_vocab, std::int64_t n_buckets, Tensors& t) {
  const std::int64_t e = o.n_embd;
  const std::int64_t ff = o.n_ff;
  t.random("token_embd.weight", {e, n_vocab});
  t.ones("enc.output_norm.weight", e);
  t.ones("dec.output_norm.weight", e);
  t.random("output.weight", {e, n_vocab});
  for (int i = 0; i < o.n_layer; ++i) {
    const std::string b = "enc.blk." + std::to_string(i) + ".";
    t.ones(b + "attn_norm.weight", e);
    t.random(b + "attn_rel_b.weight", {o.n_head, n_buckets});
    for (const char* w : {"attn_q", "attn_k", "attn_v", "attn_o"}) {
      t.random(b + w + ".weight", {e, e});
    }
    t.ones(b + "ffn_norm.weight", e);
    t.random(b + "ffn_gate.weight", {e, ff});
    t.random(b + "ffn_down.weight", {ff, e});
    t.random(b + "ffn_up.weight", {e, ff});
  }
  for (int i = 0; i < o.n_layer; ++i) {
    const std::string b = "dec.blk." + std::to_string(i) + ".";
    t.ones(b + "attn_norm.weight", e);
    t.random(b + "attn_rel_b.weight", {o.n_head, n_buckets});
    for (const char* w : {"attn_q", "attn_k", "attn_v", "attn_o"}) {
      t.random(b + w + ".weight", {e, e});
    }
    t.ones(b + "cross_attn_norm.weight", e);
    for (const char* w : {"cross_attn_q", "cross_attn_k", "cross_attn_v", "cross_attn_o"}) {
      t.random(b + w + ".weight", {e, e});
    }
    t.ones(b + "ffn_norm.weight", e);
    t.random(b + "ffn_gate.weight", {e, ff});
    t.random(b + "ffn_down.weight", {ff, e});
    t.random(b + "ffn_up.weight", {e, ff});
  }
}

}  // namespace

std::string write_tiny_gguf(const TinyGgufOptions& o, const std::string& path) {
  if (o.n_embd <= 0 || o.n_head <= 0 || o.n_embd % o.n_head != 0 || o.n_layer <= 0 || o.n_ff <= 0 ||
      o.n_ctx_train <= 0 || o.n_head_kv < 0 ||
      (o.n_head_kv > 0 && (o.n_head % o.n_head_kv != 0 || o.arch == TinyGgufArch::kT5))) {
    return "invalid dimensions";
  }
  const Vocab vocab = make_vocab();
  const auto n_vocab = static_cast<std::int64_t>(vocab.tokens.size());
  const bool t5 = o.arch == TinyGgufArch::kT5;
  const std::string arch = t5 ? "t5" : "llama";
  constexpr std::int64_t kBuckets = 32;

  std::unique_ptr<gguf_context, decltype(&gguf_free)> gguf(gguf_init_empty(), &gguf_free);
  gguf_set_val_str(gguf.get(), "general.architecture", arch.c_str());
  gguf_set_val_str(gguf.get(), "general.name", t5 ? "scribepod-tiny-t5" : "scribepod-tiny-llama");
  gguf_set_val_u32(gguf.get(), "general.file_type", 0);  // all f32
  set_u32(gguf.get(), arch, "context_length", o.n_ctx_train);
  set_u32(gguf.get(), arch, "embedding_length", o.n_embd);
  set_u32(gguf.get(), arch, "block_count", o.n_layer);
  set_u32(gguf.get(), arch, "feed_forward_length", o.n_ff);
  set_u32(gguf.get(), arch, "attention.head_count", o.n_head);
  set_u32(gguf.get(), arch, "attention.head_count_kv", o.n_head_kv > 0 ? o.n_head_kv : o.n_head);
  set_u32(gguf.get(), arch, "vocab_size", static_cast<int>(n_vocab));
  gguf_set_val_f32(gguf.get(), (arch + ".attention.layer_norm_rms_epsilon").c_str(), 1e-5F);
  if (t5) {
    set_u32(gguf.get(), arch, "attention.relative_buckets_count", static_cast<int>(kBuckets));
    set_u32(gguf.get(), arch, "decoder_start_token_id", 0);
    set_u32(gguf.get(), arch, "decoder_block_count", o.n_layer);
    set_vocab(gguf.get(), vocab, /*chatml=*/false, /*add_bos=*/false, /*add_eos=*/true);
  } else {
    set_u32(gguf.get(), arch, "rope.dimension_count", o.n_embd / o.n_head);
    set_vocab(gguf.get(), vocab, /*chatml=*/true, /*add_bos=*/true, /*add_eos=*/false);
  }

  // Room for every tensor's data plus ggml's per-tensor overhead.
  const auto e = static_cast<std::size_t>(o.n_embd);
  const auto per_layer = 8 * e * e + 3 * e * static_cast<std::size_t>(o.n_ff) + 8 * e + 512;
  const std::size_t bytes = 4 * (2 * e * static_cast<std::size_t>(n_vocab) +
                                 2 * static_cast<std::size_t>(o.n_layer) * per_layer + 4 * e) +
                            256 * ggml_tensor_overhead() + (1U << 20);
  ggml_init_params params{bytes, nullptr, false};
  std::unique_ptr<ggml_context, decltype(&ggml_free)> ctx(ggml_init(params), &ggml_free);
  if (!ctx) {
    return "ggml_init failed";
  }
  Tensors tensors{ctx.get(), gguf.get(), std::mt19937_64(o.seed)};
  if (t5) {
    add_t5(o, n_vocab, kBuckets, tensors);
  } else {
    add_llama(o, n_vocab, tensors);
  }
  if (!gguf_write_to_file(gguf.get(), path.c_str(), false)) {
    return "cannot write " + path;
  }
  return "";
}

}  // namespace scribepod::tools
