// llama.cpp behind llm::Generator: model loading, a bounded context pool,
// chat rendering, grammar-constrained sampling and streaming. See the header
// for the contract.
#include "llm/llama/llama_generator.h"

#include <llama.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "llm/json_schema.h"
#include "llm/llama/token_sampler.h"
#include "llm/llama/utf8_stream.h"
#include "telemetry/log.h"
#include "telemetry/service_metrics.h"

namespace scribepod::llm {
namespace {

struct ModelFree {
  void operator()(llama_model* m) const { llama_model_free(m); }
};
struct ContextFree {
  void operator()(llama_context* c) const { llama_free(c); }
};

// Sequences a context can hold: one per field of a parallel-fields
// generation (GenerateRequest::parallel_fields), at most this many.
constexpr int kMaxFields = 8;

// A llama_batch that frees itself.
class Batch {
 public:
  explicit Batch(int capacity) : b_(llama_batch_init(capacity, 0, 1)) {}
  ~Batch() { llama_batch_free(b_); }
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;
  void clear() { b_.n_tokens = 0; }
  int size() const { return b_.n_tokens; }
  // Appends a token of sequence `seq` at `pos`; returns its index in the
  // batch (where its logits are, when asked for).
  int add(llama_token token, llama_pos pos, llama_seq_id seq, bool logits) {
    const int i = b_.n_tokens++;
    b_.token[i] = token;
    b_.pos[i] = pos;
    b_.n_seq_id[i] = 1;
    b_.seq_id[i][0] = seq;
    b_.logits[i] = logits ? 1 : 0;
    return i;
  }
  const llama_batch& get() const { return b_; }

 private:
  llama_batch b_;
};

// llama.cpp logs every tensor it loads at info level; keep warnings and
// errors only, through our logger.
void forward_llama_log(ggml_log_level level, const char* text, void* /*user*/) {
  if (level != GGML_LOG_LEVEL_WARN && level != GGML_LOG_LEVEL_ERROR) {
    return;
  }
  std::string_view line(text);
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) {
    line.remove_suffix(1);
  }
  if (level == GGML_LOG_LEVEL_ERROR) {
    log::error("llama.cpp", {{"detail", line}});
  } else {
    log::warn("llama.cpp", {{"detail", line}});
  }
}

void init_backend_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(forward_llama_log, nullptr);
    llama_backend_init();
  });
}

Error model_error(const std::string& path, const std::string& why) {
  return Error::invalid_config("LLM model '" + path + "' " + why +
                               "; set llm.model to a GGUF file or fetch one with "
                               "`scribepod models pull`");
}

// Checks the file before llama.cpp does, so the usual mistakes (wrong path,
// a whisper .bin, an HTML error page saved as .gguf) get a clear message.
Status check_model_file(const std::string& path) {
  std::error_code ec;
  if (path.empty()) {
    return Error::invalid_config(
        "no LLM model configured; set llm.model to a GGUF file or fetch one with "
        "`scribepod models pull`");
  }
  if (!std::filesystem::exists(path, ec)) {
    return model_error(path, "does not exist");
  }
  if (!std::filesystem::is_regular_file(path, ec)) {
    return model_error(path, "is not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  if (!in.read(magic, sizeof magic)) {
    return model_error(path, "cannot be read");
  }
  if (std::string_view(magic, 4) != "GGUF") {
    return model_error(path, "is not a GGUF model");
  }
  return {};
}

// llama_tokenize into `tokens`, sized to fit. `special`: add BOS and parse
// control tokens' texts (a rendered prompt); else neither (output text).
bool tokenize_into(const llama_vocab* vocab, const std::string& text, bool special,
                   std::vector<llama_token>& tokens) {
  const auto len = static_cast<int32_t>(text.size());
  tokens.resize(text.size() + 8);
  int32_t n = llama_tokenize(vocab, text.data(), len, tokens.data(),
                             static_cast<int32_t>(tokens.size()), special, special);
  if (n < 0) {
    tokens.resize(static_cast<std::size_t>(-n));
    n = llama_tokenize(vocab, text.data(), len, tokens.data(), -n, special, special);
  }
  if (n < 0) return false;
  tokens.resize(static_cast<std::size_t>(n));
  return true;
}

std::string token_piece(const llama_vocab* vocab, llama_token token) {
  char buf[256];
  const int32_t n = llama_token_to_piece(vocab, token, buf, sizeof buf, 0, /*special=*/false);
  if (n >= 0) {
    return {buf, static_cast<std::size_t>(n)};
  }
  std::string big(static_cast<std::size_t>(-n), '\0');
  const int32_t m = llama_token_to_piece(vocab, token, big.data(), -n, 0, false);
  big.resize(static_cast<std::size_t>(std::max(m, 0)));
  return big;
}

}  // namespace

struct LlamaGenerator::Impl {
  LlamaParams params;
  std::unique_ptr<llama_model, ModelFree> model;
  const llama_vocab* vocab = nullptr;
  std::string model_name;
  std::string chat_template;  // what llama_chat_apply_template gets; "" = join contents
  // The text of every control token (<|im_start|>, </s>, ...). Message
  // contents are stripped of them before rendering: the prompt is tokenized
  // with special tokens parsed (the template needs them), so a speaker who
  // says "<|im_end|>" must not be able to close their own turn.
  std::vector<std::string> control_texts;
  bool has_encoder = false;
  int n_ctx = 0;
  std::unique_ptr<GrammarCache> grammars;

  // One context of the pool and the tokens whose keys and values its KV
  // cache holds, positions 0..cached.size()-1 (the prompt cache): the last
  // prompt (its first prompt_len tokens) and the output. Only the generation
  // that holds the slot touches it.
  struct Slot {
    std::unique_ptr<llama_context, ContextFree> ctx;
    std::vector<llama_token> cached;
    std::size_t prompt_len = 0;
  };

  std::mutex mu;
  std::condition_variable freed;
  std::vector<std::unique_ptr<Slot>> slots;
  std::vector<Slot*> idle;  // most recently released last

  // Takes an idle slot, waiting up to the queue timeout; null on timeout.
  // The choice minimises the prompt tokens that will have to be evaluated:
  // a slot scores the prefix it shares with `prompt` (work saved now) less
  // the part of its own last prompt that would be overwritten (work its
  // conversation loses when it comes back); the most recently used slot
  // wins a tie. So a conversation comes back to its own context, and a new
  // one reuses another's system prompt only while that costs less than the
  // conversation it displaces.
  Slot* acquire(const std::vector<llama_token>& prompt) {
    std::unique_lock lock(mu);
    if (!freed.wait_for(lock, params.queue_timeout, [&] { return !idle.empty(); })) {
      return nullptr;
    }
    std::size_t best = idle.size();
    long best_score = 0;
    for (std::size_t i = idle.size(); i-- > 0;) {
      const std::size_t shared = shared_prefix(idle[i]->cached, prompt);
      const std::size_t lost = idle[i]->prompt_len > shared ? idle[i]->prompt_len - shared : 0;
      const long score = static_cast<long>(shared) - static_cast<long>(lost);
      if (best == idle.size() || score > best_score) {
        best = i;
        best_score = score;
      }
    }
    Slot* slot = idle[best];
    idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(best));
    return slot;
  }
  void release(Slot* slot) {
    {
      std::lock_guard lock(mu);
      idle.push_back(slot);
    }
    freed.notify_one();
  }
  static std::size_t shared_prefix(const std::vector<llama_token>& a,
                                   const std::vector<llama_token>& b) {
    const auto n = std::min(a.size(), b.size());
    std::size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
  }

  Result<std::string> render(const std::vector<ChatMessage>& messages) const;
  std::string strip_control_texts(std::string text) const {
    for (bool changed = true; changed;) {
      changed = false;
      for (const std::string& c : control_texts) {
        for (auto at = text.find(c); at != std::string::npos; at = text.find(c, at)) {
          text.erase(at, c.size());
          changed = true;
        }
      }
    }
    return text;
  }
  Result<std::vector<llama_token>> tokenize(const std::string& text) const;
  // Tokens of a piece of text inside the output (no BOS, no control tokens).
  std::vector<llama_token> tokenize_fragment(const std::string& text) const;
  // One property of a parallel-fields generation: its key as the output
  // spells it ("name":), the tokens that open its sequence ({"name":), and
  // a sampler whose grammar is the property's own string schema.
  struct Field {
    std::string key;
    std::vector<llama_token> opening;
    TokenSampler sampler;
  };
  // Renders and tokenizes the request and builds its sampler(s): everything
  // that needs no context, done before one is taken from the pool.
  struct Prepared {
    std::vector<llama_token> tokens;
    std::optional<TokenSampler> sampler;  // one sequence: the whole output's
    std::vector<Field> fields;            // parallel fields: one each (then no sampler)
  };
  Result<Prepared> prepare(const GenerateRequest& request) const;
  // The fields of a parallel-fields request; empty when its schema does not
  // qualify (see GenerateRequest::parallel_fields) or the model cannot.
  Result<std::vector<Field>> plan_fields(const GenerateRequest& request) const;
  // Brings the slot's KV cache to hold the whole prompt, reusing the prefix
  // it already holds; returns how many prompt tokens were reused.
  Result<int> evaluate_prompt(Slot& slot, const std::vector<llama_token>& tokens) const;
  Generation begin_generation(int prompt_tokens, int cached_prompt_tokens) const {
    Generation out;
    out.engine = "llama";
    out.model = model_name;
    out.prompt_tokens = prompt_tokens;
    out.cached_prompt_tokens = cached_prompt_tokens;
    return out;
  }
  Result<Generation> run(Slot& slot, Prepared& prepared, const GenerateRequest& request) const;
  Result<Generation> run_fields(Slot& slot, Prepared& prepared,
                                const GenerateRequest& request) const;
};

namespace {

int32_t apply_template(const char* tmpl, const std::vector<llama_chat_message>& chat,
                       std::string& out) {
  out.assign(1024, '\0');
  int32_t n = llama_chat_apply_template(tmpl, chat.data(), chat.size(), true, out.data(),
                                        static_cast<int32_t>(out.size()));
  if (n > static_cast<int32_t>(out.size())) {
    out.assign(static_cast<std::size_t>(n), '\0');
    n = llama_chat_apply_template(tmpl, chat.data(), chat.size(), true, out.data(), n);
  }
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return n;
}

// The template llama.cpp's built-in renderer recognizes for this model:
// its own when supported, else ChatML; "" for encoder-decoder models
// without one (Flan-T5 was trained on plain instructions).
std::string choose_template(const llama_model* model, bool has_encoder) {
  const char* own = llama_model_chat_template(model, nullptr);
  if (own == nullptr) {
    return has_encoder ? "" : "chatml";
  }
  const std::vector<llama_chat_message> probe = {{"user", "hi"}};
  std::string out;
  if (apply_template(own, probe, out) < 0) {
    log::warn("llm chat template not supported by llama.cpp; using chatml", {});
    return "chatml";
  }
  return own;
}

}  // namespace

Result<std::string> LlamaGenerator::Impl::render(const std::vector<ChatMessage>& messages) const {
  if (messages.empty()) {
    return Error::bad_request("a generation needs at least one message");
  }
  if (chat_template.empty()) {
    std::string joined;
    for (const auto& m : messages) {
      joined += (joined.empty() ? "" : "\n") + strip_control_texts(m.content);
    }
    return joined;
  }
  std::vector<llama_chat_message> chat;
  chat.reserve(messages.size());
  std::vector<std::string> contents;
  contents.reserve(messages.size());
  for (const auto& m : messages) contents.push_back(strip_control_texts(m.content));
  for (std::size_t i = 0; i < messages.size(); ++i) {
    chat.push_back({messages[i].role.c_str(), contents[i].c_str()});
  }
  std::string out;
  if (apply_template(chat_template.c_str(), chat, out) < 0) {
    return Error::internal("llama.cpp could not render the chat template");
  }
  return out;
}

Result<std::vector<llama_token>> LlamaGenerator::Impl::tokenize(const std::string& text) const {
  if (text.size() > static_cast<std::size_t>(INT32_MAX / 2)) {
    return Error::too_large("the prompt is too long");
  }
  std::vector<llama_token> tokens;
  if (!tokenize_into(vocab, text, /*special=*/true, tokens)) {
    return Error::internal("llama.cpp could not tokenize the prompt");
  }
  // Templates that spell out the BOS token plus add_bos would give two.
  const llama_token bos = llama_vocab_bos(vocab);
  if (tokens.size() >= 2 && tokens[0] == bos && tokens[1] == bos) {
    tokens.erase(tokens.begin());
  }
  return tokens;
}

Result<LlamaGenerator::Impl::Prepared> LlamaGenerator::Impl::prepare(
    const GenerateRequest& request) const {
  auto prompt = render(request.messages);
  if (!prompt) {
    return prompt.error();
  }
  auto tokens = tokenize(*prompt);
  if (!tokens) {
    return tokens.error();
  }
  if (tokens->empty()) {
    return Error::bad_request("the prompt is empty");
  }
  if (tokens->size() >= static_cast<std::size_t>(n_ctx)) {
    return Error::too_large("the prompt is " + std::to_string(tokens->size()) +
                            " tokens; the model's context holds " + std::to_string(n_ctx));
  }
  Prepared prepared{std::move(tokens).value(), std::nullopt, {}};
  if (request.parallel_fields) {
    auto planned = plan_fields(request);
    if (!planned) {
      return planned.error();
    }
    prepared.fields = std::move(planned).value();
  }
  if (prepared.fields.empty()) {
    auto sampler = TokenSampler::make(vocab, request, params.seed, *grammars);
    if (!sampler) {
      return sampler.error();
    }
    prepared.sampler.emplace(std::move(sampler).value());
  }
  return prepared;
}

std::vector<llama_token> LlamaGenerator::Impl::tokenize_fragment(const std::string& text) const {
  std::vector<llama_token> tokens;
  if (!tokenize_into(vocab, text, /*special=*/false, tokens)) tokens.clear();
  return tokens;
}

Result<std::vector<LlamaGenerator::Impl::Field>> LlamaGenerator::Impl::plan_fields(
    const GenerateRequest& request) const {
  std::vector<Field> fields;
  if (has_encoder || request.json_schema.empty()) {
    return fields;
  }
  auto schema = JsonSchema::parse(request.json_schema);
  if (!schema) {
    return schema.error();
  }
  const SchemaNode& root = schema->root();
  const auto& properties = root.properties;
  if (root.type != SchemaNode::Type::kObject || root.additional_properties ||
      properties.size() < 2 || properties.size() > static_cast<std::size_t>(kMaxFields) ||
      !std::all_of(properties.begin(), properties.end(),
                   [](const auto& p) { return p.second.type == SchemaNode::Type::kString; })) {
    return fields;
  }
  // Each field draws from its own seed (the request's, or the engine's,
  // plus its index), so fields do not mirror each other's draws.
  const uint32_t base = request.seed != 0 ? request.seed : params.seed;
  std::size_t openings = 0;
  for (std::size_t k = 0; k < properties.size(); ++k) {
    const auto& [name, node] = properties[k];
    nlohmann::json value = {{"type", "string"}};
    if (node.min_length) value["minLength"] = *node.min_length;
    if (node.max_length) value["maxLength"] = *node.max_length;
    GenerateRequest one;
    one.json_schema = value.dump();
    one.temperature = request.temperature;
    one.seed = base == 0 ? 0 : std::max<uint32_t>(1, base + static_cast<uint32_t>(k));
    auto sampler = TokenSampler::make(vocab, one, 0, *grammars);
    if (!sampler) {
      return sampler.error();
    }
    std::string key = nlohmann::json(name).dump() + ":";
    std::vector<llama_token> opening = tokenize_fragment("{" + key);
    if (opening.empty()) {
      return std::vector<Field>{};  // a key llama.cpp cannot tokenize: one sequence
    }
    openings += opening.size();
    fields.push_back(Field{std::move(key), std::move(opening), std::move(sampler).value()});
  }
  if (openings > static_cast<std::size_t>(params.n_batch)) {
    fields.clear();  // keys too long to open in one batch: one sequence
  }
  return fields;
}

Result<int> LlamaGenerator::Impl::evaluate_prompt(Slot& slot,
                                                  const std::vector<llama_token>& tokens) const {
  llama_context* ctx = slot.ctx.get();
  llama_memory_t memory = llama_get_memory(ctx);
  const auto n_prompt = static_cast<int>(tokens.size());
  // The cache is trusted again only once this generation succeeds.
  std::vector<llama_token> cached = std::move(slot.cached);
  slot.cached.clear();
  slot.prompt_len = 0;

  if (has_encoder) {
    // The decoder cross-attends to this prompt's encoding: nothing to reuse.
    llama_memory_clear(memory, true);
    if (llama_encode(ctx, llama_batch_get_one(const_cast<llama_token*>(tokens.data()), n_prompt)) !=
        0) {
      return Error::internal("llama.cpp failed to encode the prompt");
    }
    llama_token start = llama_model_decoder_start_token(model.get());
    if (start == LLAMA_TOKEN_NULL) {
      start = llama_vocab_bos(vocab);
    }
    if (llama_decode(ctx, llama_batch_get_one(&start, 1)) != 0) {
      return Error::internal("llama.cpp failed to start the decoder");
    }
    return 0;
  }

  // Keep the shared prefix, drop the rest. The last prompt token is always
  // evaluated again: its logits are where sampling starts.
  int keep = params.prompt_cache ? static_cast<int>(shared_prefix(cached, tokens)) : 0;
  keep = std::min(keep, n_prompt - 1);
  if (keep == 0 || !llama_memory_seq_rm(memory, 0, keep, -1)) {
    llama_memory_clear(memory, true);
    keep = 0;
  }
  for (int i = keep; i < n_prompt; i += params.n_batch) {
    const int n = std::min(params.n_batch, n_prompt - i);
    if (llama_decode(ctx, llama_batch_get_one(const_cast<llama_token*>(tokens.data()) + i, n)) !=
        0) {
      return Error::internal("llama.cpp failed to evaluate the prompt");
    }
  }
  return keep;
}

Result<Generation> LlamaGenerator::Impl::run(Slot& slot, Prepared& prepared,
                                             const GenerateRequest& request) const {
  if (!prepared.fields.empty()) {
    return run_fields(slot, prepared, request);
  }
  llama_context* ctx = slot.ctx.get();
  const auto n_prompt = static_cast<int>(prepared.tokens.size());
  auto reused = evaluate_prompt(slot, prepared.tokens);
  if (!reused) {
    return reused.error();
  }
  // Tokens in the (decoder's) KV cache.
  int used = has_encoder ? 1 : n_prompt;
  int forced_tokens = 0;  // taken without logits (jump-forward)
  int decode_calls = 0;   // for the output
  std::vector<llama_token> evaluated = prepared.tokens;
  TokenSampler& sampler = *prepared.sampler;

  Generation out = begin_generation(n_prompt, *reused);
  Utf8Stream utf8;
  bool finished = false;
  bool cancelled = false;
  auto emit = [&](const std::string& piece) {
    if (piece.empty()) {
      return;
    }
    out.text += piece;
    if (request.on_text && !cancelled && !request.on_text(piece)) {
      cancelled = true;
    }
  };
  // Chosen tokens not yet evaluated. A token the grammar forces needs no
  // logits, so a run of them (a JSON key and its punctuation) is evaluated
  // in one llama_decode call instead of one call per token.
  std::vector<llama_token> pending;
  bool last_forced = false;
  std::string last_piece;  // the text of the last chosen token
  while (out.completion_tokens < request.max_tokens &&
         used + static_cast<int>(pending.size()) < n_ctx && !cancelled) {
    std::optional<llama_token> token;
    if (!pending.empty()) {
      // Only worth asking where forced text is likely: inside a forced run
      // or after JSON punctuation (a string's closing quote, a comma...).
      const std::string& last = last_piece;  // of pending.back()
      if (last_forced || (!last.empty() && std::string_view("\"{}[],:").find(last.back()) !=
                                               std::string_view::npos)) {
        token = sampler.forced();
      }
      if (!token) {
        if (llama_decode(ctx, llama_batch_get_one(pending.data(),
                                                  static_cast<int32_t>(pending.size()))) != 0) {
          return Error::internal("llama.cpp failed to decode a token");
        }
        ++decode_calls;
        used += static_cast<int>(pending.size());
        evaluated.insert(evaluated.end(), pending.begin(), pending.end());
        pending.clear();
      }
    }
    last_forced = token.has_value();
    forced_tokens += last_forced ? 1 : 0;
    if (!token) {
      token = sampler.sample(llama_get_logits_ith(ctx, -1));
    }
    // Once per token: accepting twice would corrupt the grammar.
    sampler.accept(*token);
    if (llama_vocab_is_eog(vocab, *token)) {
      finished = true;
      break;
    }
    ++out.completion_tokens;
    last_piece = token_piece(vocab, *token);
    emit(utf8.push(last_piece));
    pending.push_back(*token);
  }
  emit(utf8.finish());
  log::debug("llm generation", {{"prompt_tokens", n_prompt},
                                {"cached_prompt_tokens", *reused},
                                {"completion_tokens", out.completion_tokens},
                                {"forced_tokens", forced_tokens},
                                {"decode_calls", decode_calls}});
  out.truncated = !finished;
  // The KV cache now holds the prompt and every decoded token: the next
  // request on this context (the same conversation, one utterance longer)
  // starts from there.
  if (!has_encoder) {
    slot.cached = std::move(evaluated);
    slot.prompt_len = static_cast<std::size_t>(n_prompt);
  }
  return out;
}

// Parallel fields: the prompt is evaluated once, in sequence 0, and shared by
// one sequence per field (a KV cache copy shares the cells, it does not
// duplicate them). Each sequence opens with its key ({"name":) and the
// field's own string grammar writes the value; every step samples one token
// per unfinished field and decodes them all in one llama_decode call, which
// costs little more than one token on a CPU (the weights are read once per
// step, not once per field). A field is done when its grammar allows only the
// end; max_tokens bounds all fields together. The output is streamed in
// schema order: a field's text flows once every field before it is done.
Result<Generation> LlamaGenerator::Impl::run_fields(Slot& slot, Prepared& prepared,
                                                    const GenerateRequest& request) const {
  llama_context* ctx = slot.ctx.get();
  llama_memory_t memory = llama_get_memory(ctx);
  std::vector<Field>& fields = prepared.fields;
  const int n = static_cast<int>(fields.size());
  const auto n_prompt = static_cast<int>(prepared.tokens.size());
  auto reused = evaluate_prompt(slot, prepared.tokens);
  if (!reused) {
    return reused.error();
  }
  // Sequences 1..n-1 live only for this generation, however it ends.
  struct DropSequences {
    llama_memory_t memory;
    int n;
    ~DropSequences() {
      for (int k = 1; k < n; ++k) llama_memory_seq_rm(memory, k, -1, -1);
    }
  } drop{memory, n};
  for (int k = 1; k < n; ++k) {
    llama_memory_seq_cp(memory, 0, k, -1, -1);
  }

  struct State {
    llama_pos pos = 0;  // next position in the field's sequence
    int logits = -1;    // batch index of its last token's logits
    bool done = false;
    std::string text;  // the value so far, raw bytes
  };
  std::vector<State> state(static_cast<std::size_t>(n));
  int cells = n_prompt;  // KV cells in use: the prompt once, then every field's tokens
  std::size_t openings = 0;
  for (const Field& f : fields) openings += f.opening.size();
  if (cells + static_cast<int>(openings) >= n_ctx) {
    return Error::too_large("the prompt and the fields' keys do not fit the model's context of " +
                            std::to_string(n_ctx) + " tokens");
  }
  Batch batch(std::max(static_cast<int>(openings), n));
  std::vector<llama_token> evaluated = prepared.tokens;  // sequence 0's tokens
  for (int k = 0; k < n; ++k) {
    const auto& opening = fields[static_cast<std::size_t>(k)].opening;
    State& s = state[static_cast<std::size_t>(k)];
    s.pos = n_prompt;
    for (std::size_t i = 0; i < opening.size(); ++i) {
      const int at = batch.add(opening[i], s.pos++, k, i + 1 == opening.size());
      if (i + 1 == opening.size()) s.logits = at;
    }
  }
  evaluated.insert(evaluated.end(), fields[0].opening.begin(), fields[0].opening.end());
  if (llama_decode(ctx, batch.get()) != 0) {
    return Error::internal("llama.cpp failed to evaluate the fields' keys");
  }
  cells += batch.size();
  int decode_calls = 1;

  Generation out = begin_generation(n_prompt, *reused);
  Utf8Stream utf8;
  bool cancelled = false;
  auto emit = [&](const std::string& bytes) {
    const std::string piece = utf8.push(bytes);
    if (piece.empty()) return;
    out.text += piece;
    if (request.on_text && !cancelled && !request.on_text(piece)) cancelled = true;
  };
  // Streams in schema order: the field being written out, how much of its
  // text has gone, and whether its key has.
  std::size_t shown = 0;
  std::size_t shown_bytes = 0;
  bool key_shown = false;
  auto flush = [&](bool everything) {
    while (shown < fields.size()) {
      State& s = state[shown];
      if (!key_shown) {
        emit((shown == 0 ? "{" : ",") + fields[shown].key);
        key_shown = true;
      }
      emit(s.text.substr(shown_bytes));
      shown_bytes = s.text.size();
      if (!s.done && !everything) return;
      ++shown;
      shown_bytes = 0;
      key_shown = false;
    }
  };

  bool exhausted = false;
  while (!cancelled && !exhausted) {
    batch.clear();
    for (int k = 0; k < n && !exhausted; ++k) {
      State& s = state[static_cast<std::size_t>(k)];
      if (s.done) continue;
      if (out.completion_tokens >= request.max_tokens || cells + batch.size() >= n_ctx) {
        exhausted = true;
        break;
      }
      TokenSampler& sampler = fields[static_cast<std::size_t>(k)].sampler;
      const llama_token token = sampler.sample(llama_get_logits_ith(ctx, s.logits));
      // Once per token: accepting twice would corrupt the grammar.
      sampler.accept(token);
      if (llama_vocab_is_eog(vocab, token)) {
        s.done = true;
        continue;
      }
      ++out.completion_tokens;
      const std::string piece = token_piece(vocab, token);
      s.text += piece;
      // After a closing quote the grammar may allow nothing but the end: the
      // field is done without decoding its last token.
      if (s.text.size() > 1 && !piece.empty() && piece.back() == '"') {
        const auto next = sampler.forced();
        if (next && llama_vocab_is_eog(vocab, *next)) {
          s.done = true;
          continue;
        }
      }
      s.logits = batch.add(token, s.pos++, k, true);
      if (k == 0) evaluated.push_back(token);
    }
    if (batch.size() > 0) {
      if (llama_decode(ctx, batch.get()) != 0) {
        return Error::internal("llama.cpp failed to decode the fields");
      }
      ++decode_calls;
      cells += batch.size();
    }
    flush(false);
    if (batch.size() == 0) break;  // every field is done
  }
  const bool finished =
      std::all_of(state.begin(), state.end(), [](const State& s) { return s.done; });
  flush(true);
  if (finished) emit("}");
  emit(utf8.finish());
  log::debug("llm generation", {{"prompt_tokens", n_prompt},
                                {"cached_prompt_tokens", *reused},
                                {"completion_tokens", out.completion_tokens},
                                {"fields", n},
                                {"decode_calls", decode_calls}});
  out.truncated = !finished;
  slot.cached = std::move(evaluated);
  slot.prompt_len = static_cast<std::size_t>(n_prompt);
  return out;
}

LlamaParams default_llama_params() { return LlamaParams{}; }

LlamaGenerator::LlamaGenerator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LlamaGenerator::~LlamaGenerator() = default;

Result<std::unique_ptr<LlamaGenerator>> LlamaGenerator::load(const LlamaParams& params) {
  if (params.n_ctx < 0 || params.n_batch < 1 || params.max_sequences < 1 || params.n_threads < 0 ||
      params.queue_timeout.count() < 0) {
    return Error::invalid_config(
        "LLM parameters out of range: n_ctx >= 0, n_batch >= 1, max_sequences >= 1, "
        "n_threads >= 0 and a non-negative queue timeout are required");
  }
  if (auto ok = check_model_file(params.model_path); !ok) {
    return ok.error();
  }
  init_backend_once();

  auto impl = std::make_unique<Impl>();
  impl->params = params;
  llama_model_params mp = llama_model_default_params();
  impl->model.reset(llama_model_load_from_file(params.model_path.c_str(), mp));
  if (!impl->model) {
    return model_error(params.model_path,
                       "could not be loaded by llama.cpp (corrupt, "
                       "truncated or an unsupported architecture)");
  }
  impl->vocab = llama_model_get_vocab(impl->model.get());
  impl->grammars = std::make_unique<GrammarCache>(impl->vocab);
  for (llama_token t = 0; t < llama_vocab_n_tokens(impl->vocab); ++t) {
    if ((llama_vocab_get_attr(impl->vocab, t) & LLAMA_TOKEN_ATTR_CONTROL) == 0) continue;
    std::string text = llama_vocab_get_text(impl->vocab, t);
    if (!text.empty()) impl->control_texts.push_back(std::move(text));
  }
  impl->model_name = std::filesystem::path(params.model_path).filename().string();
  impl->has_encoder = llama_model_has_encoder(impl->model.get());
  impl->chat_template = choose_template(impl->model.get(), impl->has_encoder);
  impl->n_ctx = params.n_ctx > 0 ? params.n_ctx : llama_model_n_ctx_train(impl->model.get());

  const unsigned hw = std::max(1U, std::thread::hardware_concurrency());
  const int threads = params.n_threads > 0
                          ? params.n_threads
                          : std::max(1, static_cast<int>(hw) / params.max_sequences);
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(impl->n_ctx);
  // The encoder sees the whole prompt in one batch, so it must fit one.
  cp.n_batch = static_cast<uint32_t>(impl->has_encoder ? impl->n_ctx : params.n_batch);
  cp.n_ubatch = cp.n_batch;
  // Parallel fields decode several sequences in one context; a unified KV
  // cache lets them share the prompt's cells.
  cp.n_seq_max = kMaxFields;
  cp.kv_unified = true;
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.no_perf = true;
  for (int i = 0; i < params.max_sequences; ++i) {
    std::unique_ptr<llama_context, ContextFree> ctx(llama_init_from_model(impl->model.get(), cp));
    if (!ctx) {
      return Error::invalid_config("llama.cpp could not create context " + std::to_string(i + 1) +
                                   " of " + std::to_string(params.max_sequences) + " (n_ctx " +
                                   std::to_string(impl->n_ctx) +
                                   "); lower llm.n_ctx or llm.max_sequences");
    }
    auto slot = std::make_unique<Impl::Slot>();
    slot->ctx = std::move(ctx);
    impl->idle.push_back(slot.get());
    impl->slots.push_back(std::move(slot));
  }
  log::info("llm model loaded",
            {{"engine", "llama"},
             {"model", impl->model_name},
             {"n_ctx", impl->n_ctx},
             {"contexts", params.max_sequences},
             {"threads", threads},
             {"encoder_decoder", impl->has_encoder},
             {"chat_template", impl->chat_template.empty()       ? std::string("plain")
                               : impl->chat_template == "chatml" ? std::string("chatml")
                                                                 : std::string("model")}});
  return std::unique_ptr<LlamaGenerator>(new LlamaGenerator(std::move(impl)));
}

std::string LlamaGenerator::describe() const {
  return "llama.cpp " + impl_->model_name + " (n_ctx " + std::to_string(impl_->n_ctx) + ", " +
         std::to_string(impl_->slots.size()) + " contexts)";
}

Result<Generation> LlamaGenerator::generate(const GenerateRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  if (request.max_tokens < 1) {
    return Error::bad_request("max_tokens must be at least 1");
  }
  auto prepared = impl_->prepare(request);
  if (!prepared) {
    return prepared.error();
  }
  Impl::Slot* slot = impl_->acquire(prepared->tokens);
  if (slot == nullptr) {
    Error busy{ErrorCode::kUnavailable, "the language model is busy; try again shortly",
               std::chrono::seconds(1)};
    return busy;
  }
  // Returns the slot to the pool however run() ends.
  struct Lease {
    Impl& impl;
    Impl::Slot* slot;
    ~Lease() { impl.release(slot); }
  } lease{*impl_, slot};
  auto result = impl_->run(*lease.slot, *prepared, request);
  if (result) {
    result->latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    metrics::observe_generation("llama", result->prompt_tokens, result->completion_tokens,
                                result->latency_ms / 1000.0);
  }
  return result;
}

}  // namespace scribepod::llm
