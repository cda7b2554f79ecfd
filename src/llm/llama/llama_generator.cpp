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
#include <random>
#include <thread>
#include <vector>

#include "llm/json_schema.h"
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
struct SamplerFree {
  void operator()(llama_sampler* s) const { llama_sampler_free(s); }
};
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerFree>;

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

  std::mutex mu;
  std::condition_variable freed;
  std::vector<std::unique_ptr<llama_context, ContextFree>> contexts;
  std::vector<llama_context*> idle;

  // Takes an idle context, waiting up to the queue timeout; null on timeout.
  llama_context* acquire() {
    std::unique_lock lock(mu);
    if (!freed.wait_for(lock, params.queue_timeout, [&] { return !idle.empty(); })) {
      return nullptr;
    }
    llama_context* ctx = idle.back();
    idle.pop_back();
    return ctx;
  }
  void release(llama_context* ctx) {
    {
      std::lock_guard lock(mu);
      idle.push_back(ctx);
    }
    freed.notify_one();
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
  Result<SamplerPtr> make_sampler(const GenerateRequest& request) const;
  Result<Generation> run(llama_context* ctx, const GenerateRequest& request) const;
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
  const auto len = static_cast<int32_t>(text.size());
  std::vector<llama_token> tokens(text.size() + 8);
  int32_t n = llama_tokenize(vocab, text.data(), len, tokens.data(),
                             static_cast<int32_t>(tokens.size()), true, true);
  if (n < 0) {
    tokens.resize(static_cast<std::size_t>(-n));
    n = llama_tokenize(vocab, text.data(), len, tokens.data(), -n, true, true);
  }
  if (n < 0) {
    return Error::internal("llama.cpp could not tokenize the prompt");
  }
  tokens.resize(static_cast<std::size_t>(n));
  // Templates that spell out the BOS token plus add_bos would give two.
  const llama_token bos = llama_vocab_bos(vocab);
  if (tokens.size() >= 2 && tokens[0] == bos && tokens[1] == bos) {
    tokens.erase(tokens.begin());
  }
  return tokens;
}

Result<SamplerPtr> LlamaGenerator::Impl::make_sampler(const GenerateRequest& request) const {
  llama_sampler_chain_params cp = llama_sampler_chain_default_params();
  cp.no_perf = true;
  SamplerPtr chain(llama_sampler_chain_init(cp));
  if (!request.json_schema.empty()) {
    auto schema = JsonSchema::parse(request.json_schema);
    if (!schema) {
      return schema.error();
    }
    const std::string gbnf = schema->to_gbnf();
    llama_sampler* grammar = llama_sampler_init_grammar(vocab, gbnf.c_str(), "root");
    if (grammar == nullptr) {
      return Error::internal("llama.cpp rejected the grammar derived from the JSON schema");
    }
    // First in the chain: later samplers only ever see allowed tokens.
    llama_sampler_chain_add(chain.get(), grammar);
  }
  if (request.temperature <= 0.0F) {
    llama_sampler_chain_add(chain.get(), llama_sampler_init_greedy());
  } else {
    uint32_t seed = request.seed != 0 ? request.seed : params.seed;
    if (seed == 0) {
      seed = std::random_device{}();
    }
    llama_sampler_chain_add(chain.get(), llama_sampler_init_top_k(40));
    llama_sampler_chain_add(chain.get(), llama_sampler_init_temp(request.temperature));
    llama_sampler_chain_add(chain.get(), llama_sampler_init_dist(seed));
  }
  return chain;
}

Result<Generation> LlamaGenerator::Impl::run(llama_context* ctx,
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
  const auto n_prompt = static_cast<int>(tokens->size());
  if (n_prompt >= n_ctx) {
    return Error::too_large("the prompt is " + std::to_string(n_prompt) +
                            " tokens; the model's context holds " + std::to_string(n_ctx));
  }
  auto sampler = make_sampler(request);
  if (!sampler) {
    return sampler.error();
  }

  llama_memory_clear(llama_get_memory(ctx), true);
  int used = 0;  // tokens in the (decoder's) KV cache
  if (has_encoder) {
    if (llama_encode(ctx, llama_batch_get_one(tokens->data(), n_prompt)) != 0) {
      return Error::internal("llama.cpp failed to encode the prompt");
    }
    llama_token start = llama_model_decoder_start_token(model.get());
    if (start == LLAMA_TOKEN_NULL) {
      start = llama_vocab_bos(vocab);
    }
    if (llama_decode(ctx, llama_batch_get_one(&start, 1)) != 0) {
      return Error::internal("llama.cpp failed to start the decoder");
    }
    used = 1;
  } else {
    for (int i = 0; i < n_prompt; i += params.n_batch) {
      const int n = std::min(params.n_batch, n_prompt - i);
      if (llama_decode(ctx, llama_batch_get_one(tokens->data() + i, n)) != 0) {
        return Error::internal("llama.cpp failed to evaluate the prompt");
      }
    }
    used = n_prompt;
  }

  Generation out;
  out.engine = "llama";
  out.model = model_name;
  out.prompt_tokens = n_prompt;
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
  while (out.completion_tokens < request.max_tokens && used < n_ctx && !cancelled) {
    // sample() also accepts the token into every sampler of the chain
    // (grammar included); accepting it again would corrupt the grammar.
    llama_token token = llama_sampler_sample(sampler->get(), ctx, -1);
    if (llama_vocab_is_eog(vocab, token)) {
      finished = true;
      break;
    }
    ++out.completion_tokens;
    emit(utf8.push(token_piece(vocab, token)));
    if (llama_decode(ctx, llama_batch_get_one(&token, 1)) != 0) {
      return Error::internal("llama.cpp failed to decode a token");
    }
    ++used;
  }
  emit(utf8.finish());
  out.truncated = !finished;
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
  cp.n_seq_max = 1;
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
    impl->idle.push_back(ctx.get());
    impl->contexts.push_back(std::move(ctx));
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
         std::to_string(impl_->contexts.size()) + " contexts)";
}

Result<Generation> LlamaGenerator::generate(const GenerateRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  if (request.max_tokens < 1) {
    return Error::bad_request("max_tokens must be at least 1");
  }
  llama_context* ctx = impl_->acquire();
  if (ctx == nullptr) {
    Error busy{ErrorCode::kUnavailable, "the language model is busy; try again shortly",
               std::chrono::seconds(1)};
    return busy;
  }
  // Returns the context to the pool however run() ends.
  struct Lease {
    Impl& impl;
    llama_context* ctx;
    ~Lease() { impl.release(ctx); }
  } lease{*impl_, ctx};
  auto result = impl_->run(lease.ctx, request);
  if (result) {
    result->latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    metrics::observe_generation("llama", result->prompt_tokens, result->completion_tokens,
                                result->latency_ms / 1000.0);
  }
  return result;
}

}  // namespace scribepod::llm
