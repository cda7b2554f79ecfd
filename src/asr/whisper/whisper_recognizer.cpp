#include "asr/whisper/whisper_recognizer.h"

#include <whisper.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "asr/whisper/whisper_log_bridge.h"
#include "asr/whisper/whisper_model_file.h"
#include "asr/whisper/whisper_results.h"
#include "asr/whisper/whisper_state_pool.h"
#include "telemetry/log.h"

namespace scribepod::asr {
namespace {

constexpr int kEncoderFramesPerSecond = 50;  // 100 mel frames/s, halved by the stride-2 conv

struct ContextDeleter {
  void operator()(whisper_context* c) const { whisper_free(c); }
};
using ContextPtr = std::unique_ptr<whisper_context, ContextDeleter>;
using StatePtr = WhisperStatePool::StatePtr;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The whisper language code to decode with ("auto" = detect), or
// kBadRequest for a language the model cannot do.
Result<std::string> resolve_whisper_language(std::string_view requested, std::string_view fallback,
                                             bool multilingual) {
  const std::string lang = lower(requested.empty() ? fallback : requested);
  const std::string shown(requested.empty() ? fallback : requested);
  if (!multilingual) {
    if (lang.empty() || lang == "auto" || lang == "en" || lang == "english") {
      return std::string("en");
    }
    return Error::bad_request("language '" + shown +
                              "' needs a multilingual whisper model; the configured model is "
                              "English-only");
  }
  if (lang.empty() || lang == "auto") return std::string("auto");
  const int id = whisper_lang_id(lang.c_str());
  if (id < 0) return Error::bad_request("unknown language '" + shown + "'");
  return std::string(whisper_lang_str(id));
}

class WhisperEngine {
 public:
  enum class Mode { kFinal, kPartial };

  WhisperEngine(WhisperParams params, WhisperModelInfo info, ContextPtr ctx,
                std::vector<StatePtr> states)
      : params_(std::move(params)),
        info_(std::move(info)),
        ctx_(std::move(ctx)),
        pool_(std::move(states)) {}

  const WhisperParams& params() const { return params_; }

  std::string describe() const {
    return "whisper.cpp " + std::string(whisper_version()) + ", model " + params_.model_path +
           " (" + info_.size_name + ", " + (info_.multilingual ? "multilingual" : "English-only") +
           ", " + info_.ftype_name + "), " + std::to_string(params_.threads) + " threads x " +
           std::to_string(pool_.size()) + " concurrent";
  }

  Result<std::string> resolve_language(std::string_view requested) const {
    return resolve_whisper_language(requested, params_.language, info_.multilingual);
  }

  Result<Transcript> transcribe(std::span<const float> samples, const TranscribeOptions& options) {
    Result<std::string> lang = check_request(samples, options);
    if (!lang) return std::move(lang).take_error();
    std::optional<WhisperStatePool::Lease> lease = pool_.acquire(params_.acquire_timeout);
    if (!lease) {
      return Error{ErrorCode::kUnavailable,
                   "speech recognition is busy (" + std::to_string(pool_.size()) +
                       " decodes running); try again shortly",
                   std::chrono::seconds(1)};
    }
    return run(samples, options, *lang, Mode::kFinal, lease->get());
  }

  // nullopt when every state is busy: a partial is not worth waiting for.
  Result<std::optional<std::string>> partial(std::span<const float> samples,
                                             const TranscribeOptions& options) {
    Result<std::string> lang = check_request(samples, options);
    if (!lang) return std::move(lang).take_error();
    std::optional<WhisperStatePool::Lease> lease = pool_.try_acquire();
    if (!lease) return std::optional<std::string>();
    Result<Transcript> t = run(samples, options, *lang, Mode::kPartial, lease->get());
    if (!t) return std::move(t).take_error();
    return std::optional<std::string>(std::move(t->text));
  }

 private:
  // The language to decode with, checked before waiting for a state.
  Result<std::string> check_request(std::span<const float> samples,
                                    const TranscribeOptions& options) const {
    if (samples.size() > static_cast<std::size_t>(INT_MAX)) {
      return Error::too_large("audio too long for one decode");
    }
    return resolve_language(options.language);
  }

  Result<Transcript> run(std::span<const float> samples, const TranscribeOptions& options,
                         const std::string& lang, Mode mode, whisper_state* state);

  WhisperParams params_;
  WhisperModelInfo info_;
  ContextPtr ctx_;
  WhisperStatePool pool_;
};

Result<Transcript> WhisperEngine::run(std::span<const float> samples,
                                      const TranscribeOptions& options, const std::string& lang,
                                      Mode mode, whisper_state* state) {
  const auto started = std::chrono::steady_clock::now();
  const bool partial = mode == Mode::kPartial;
  const bool words = !partial && (options.word_timestamps || params_.word_timestamps);

  Transcript out;
  out.engine = "whisper";
  out.audio_s = static_cast<double>(samples.size()) / audio::kSampleRate;
  WhisperDecodeStats stats;
  stats.audio_s = out.audio_s;
  stats.partial = partial;
  const auto finish = [&](Transcript t) {
    t.decode_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    stats.decode_ms = t.decode_ms;
    log::debug("whisper decode", {{"audio_s", stats.audio_s},
                                  {"audio_ctx", stats.audio_ctx},
                                  {"decode_ms", stats.decode_ms},
                                  {"segments", stats.segments},
                                  {"dropped_segments", stats.dropped_segments},
                                  {"partial", stats.partial},
                                  {"skipped_silent", stats.skipped_silent}});
    if (params_.on_decode) params_.on_decode(stats);
    return t;
  };

  // Near-silent input is where whisper invents text; there is nothing to hear.
  if (rms_dbfs(samples.data(), samples.size()) < params_.silence_dbfs) {
    stats.skipped_silent = true;
    out.language = lang == "auto" ? std::string() : lang;
    return finish(std::move(out));
  }

  whisper_full_params wp = whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
  wp.n_threads = params_.threads;
  wp.translate = params_.translate;
  wp.no_context = true;  // states are shared: no text may carry over between requests
  wp.single_segment = partial;
  wp.no_timestamps = partial;
  wp.print_special = false;
  wp.print_progress = false;
  wp.print_realtime = false;
  wp.print_timestamps = false;
  wp.token_timestamps = words || (!partial && params_.max_segment_chars > 0);
  wp.max_len = partial ? 0 : params_.max_segment_chars;
  wp.split_on_word = true;
  wp.max_tokens = params_.max_tokens;
  stats.audio_ctx =
      params_.adaptive_audio_ctx
          ? whisper_audio_ctx_for(samples.size(), params_.audio_ctx_padding, info_.n_audio_ctx)
          : info_.n_audio_ctx;
  wp.audio_ctx = stats.audio_ctx;
  // With "auto", whisper detects the language on the encoder window this
  // state last used (the audio_ctx is applied after detection); that is at
  // least the start of the audio, which is what detection looks at anyway.
  wp.language = lang.c_str();
  wp.detect_language = false;
  wp.initial_prompt = options.prompt.empty() ? nullptr : options.prompt.c_str();
  wp.suppress_blank = params_.suppress_blank;
  wp.suppress_nst = params_.suppress_non_speech_tokens;
  wp.temperature = std::max(0.0F, options.temperature);
  wp.temperature_inc = partial ? 0.0F : params_.temperature_inc;
  // whisper.cpp's own no-speech value is right only for a one-token prompt
  // (English-only model, no initial prompt); elsewhere switch its internal
  // skip off and let the segment filter decide with the measured value.
  const bool whisper_nosp_ok = !info_.multilingual && options.prompt.empty();
  wp.no_speech_thold = whisper_nosp_ok ? params_.segment_filter.no_speech_thold
                                       : std::numeric_limits<float>::infinity();
  wp.logprob_thold = params_.segment_filter.logprob_thold;
  WhisperNoSpeechProbe probe(params_.threads);
  wp.new_segment_callback = &WhisperNoSpeechProbe::on_new_segments;
  wp.new_segment_callback_user_data = &probe;

  whisper_context* ctx = ctx_.get();
  WhisperErrorCapture capture;
  const int rc =
      whisper_full_with_state(ctx, state, wp, samples.data(), static_cast<int>(samples.size()));
  if (rc != 0) {
    log::warn("whisper decode failed", {{"code", rc}, {"detail", capture.text()}});
    return Error::internal("speech recognition failed (whisper.cpp code " + std::to_string(rc) +
                           ")");
  }

  const int n_segments = whisper_full_n_segments_from_state(state);
  stats.segments = n_segments;
  double floor_s = 0;
  for (int i = 0; i < n_segments; ++i) {
    Segment seg;
    seg.text = clean_text(whisper_full_get_segment_text_from_state(state, i));
    seg.start_s = std::max(
        floor_s, whisper_time_s(whisper_full_get_segment_t0_from_state(state, i), out.audio_s));
    seg.end_s = std::max(
        seg.start_s, whisper_time_s(whisper_full_get_segment_t1_from_state(state, i), out.audio_s));
    const auto first = static_cast<std::size_t>(seg.start_s * audio::kSampleRate);
    const auto last =
        std::min(samples.size(), static_cast<std::size_t>(seg.end_s * audio::kSampleRate));
    const float level = last > first ? rms_dbfs(samples.data() + first, last - first)
                                     : rms_dbfs(samples.data(), samples.size());
    const SegmentEvidence evidence{seg.text, probe.at(i),
                                   whisper_segment_avg_logprob(ctx, state, i), level};
    if (should_drop_segment(evidence, params_.segment_filter)) {
      ++stats.dropped_segments;
      log::debug("whisper segment dropped",
                 {{"text", seg.text},
                  {"no_speech_prob", static_cast<double>(evidence.no_speech_prob)},
                  {"avg_logprob", static_cast<double>(evidence.avg_logprob)},
                  {"dbfs", static_cast<double>(level)}});
      continue;
    }
    if (words) seg.words = whisper_segment_words(ctx, state, i, seg);
    floor_s = seg.start_s;
    if (!out.text.empty()) out.text += ' ';
    out.text += seg.text;
    out.segments.push_back(std::move(seg));
  }
  const int lang_id = whisper_full_lang_id_from_state(state);
  out.language = info_.multilingual && lang_id >= 0 ? whisper_lang_str(lang_id) : "en";
  return finish(std::move(out));
}

class WhisperStream final : public RecognizerStream {
 public:
  WhisperStream(std::shared_ptr<WhisperEngine> engine, TranscribeOptions options)
      : engine_(std::move(engine)), options_(std::move(options)) {}

  Status feed(std::span<const float> samples) override {
    if (finished_) return Error::internal("feed() after finalize() on a whisper stream");
    const double seconds =
        static_cast<double>(buffer_.size() + samples.size()) / audio::kSampleRate;
    if (seconds > engine_->params().max_stream_s) {
      return Error::too_large("utterance longer than " +
                              std::to_string(static_cast<int>(engine_->params().max_stream_s)) +
                              " s");
    }
    buffer_.insert(buffer_.end(), samples.begin(), samples.end());
    return {};
  }

  Result<std::string> partial() override {
    if (finished_) return Error::internal("partial() after finalize() on a whisper stream");
    if (buffer_.size() == partial_samples_) return partial_text_;
    Result<std::optional<std::string>> text = engine_->partial(buffer_, options_);
    if (!text) return std::move(text).take_error();
    if (text->has_value()) {
      partial_text_ = std::move(**text);
      partial_samples_ = buffer_.size();
    }
    return partial_text_;
  }

  Result<Transcript> finalize() override {
    if (finished_) return Error::internal("finalize() called twice on a whisper stream");
    finished_ = true;
    return engine_->transcribe(buffer_, options_);
  }

 private:
  std::shared_ptr<WhisperEngine> engine_;
  TranscribeOptions options_;
  std::vector<float> buffer_;
  std::string partial_text_;
  std::size_t partial_samples_ = 0;
  bool finished_ = false;
};

class WhisperRecognizer final : public Recognizer {
 public:
  explicit WhisperRecognizer(std::shared_ptr<WhisperEngine> engine) : engine_(std::move(engine)) {}

  std::string name() const override { return "whisper"; }
  std::string describe() const override { return engine_->describe(); }

  Result<Transcript> transcribe(const audio::PcmAudio& audio,
                                const TranscribeOptions& options) override {
    return engine_->transcribe(audio.samples, options);
  }

  Result<std::unique_ptr<RecognizerStream>> open_stream(const TranscribeOptions& options) override {
    Result<std::string> lang = engine_->resolve_language(options.language);
    if (!lang) return std::move(lang).take_error();
    return std::unique_ptr<RecognizerStream>(std::make_unique<WhisperStream>(engine_, options));
  }

 private:
  std::shared_ptr<WhisperEngine> engine_;
};

Status check_params(const WhisperParams& p) {
  const auto bad = [](const std::string& what) {
    return Error::invalid_config("whisper: " + what);
  };
  if (p.threads < 1 || p.threads > 256) return bad("threads must be 1..256");
  if (p.max_concurrent < 1 || p.max_concurrent > 64) return bad("max_concurrent must be 1..64");
  if (p.max_tokens < 0) return bad("max_tokens must be >= 0");
  if (p.max_segment_chars < 0) return bad("max_segment_chars must be >= 0");
  if (p.audio_ctx_padding < 0 || p.audio_ctx_padding > 1500) {
    return bad("audio_ctx_padding must be 0..1500");
  }
  if (p.acquire_timeout.count() < 0) return bad("acquire_timeout must be >= 0");
  if (!(p.temperature_inc >= 0.0F && p.temperature_inc <= 1.0F)) {
    return bad("temperature_inc must be 0..1");
  }
  if (!(p.max_stream_s > 0)) return bad("max_stream_s must be > 0");
  return {};
}

// A missing or unreadable file gets the friendliest message: it is the
// common case on a fresh machine.
Status check_model_path(const std::string& path) {
  const std::string pull = "`scribepod models pull " + whisper_model_pull_name(path) + "`";
  if (path.empty()) {
    return Error::invalid_config("whisper: no model path configured; download a model with " +
                                 pull + " and set the whisper model path to it");
  }
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return Error::invalid_config("whisper model not found: " + path + "; download it with " + pull);
  }
  if (!std::filesystem::is_regular_file(status)) {
    return Error::invalid_config("whisper model " + path +
                                 " is not a file; download a model with " + pull);
  }
  std::ifstream probe(path, std::ios::binary);
  if (!probe) {
    return Error::invalid_config("whisper model " + path + " cannot be read (" +
                                 std::strerror(errno) +
                                 "); check its permissions, or download it again with " + pull);
  }
  return {};
}

}  // namespace

int whisper_audio_ctx_for(std::size_t n_samples, int padding, int model_audio_ctx) {
  const std::size_t frames =
      (n_samples * kEncoderFramesPerSecond + audio::kSampleRate - 1) / audio::kSampleRate;
  const std::size_t wanted = frames + static_cast<std::size_t>(std::max(0, padding));
  return static_cast<int>(std::min(wanted, static_cast<std::size_t>(std::max(1, model_audio_ctx))));
}

Result<std::unique_ptr<Recognizer>> make_whisper_recognizer(const WhisperParams& params) {
  if (Status s = check_params(params); !s) return std::move(s).take_error();
  if (Status s = check_model_path(params.model_path); !s) return std::move(s).take_error();
  Result<WhisperModelInfo> info = inspect_whisper_model_file(params.model_path);
  if (!info) return std::move(info).take_error();
  if (params.translate && !info->multilingual) {
    return Error::invalid_config("whisper: translate needs a multilingual model; " +
                                 params.model_path + " is English-only");
  }
  if (Result<std::string> lang = resolve_whisper_language("", params.language, info->multilingual);
      !lang) {
    return Error::invalid_config("whisper: " + lang.error().message);
  }
  install_whisper_log_bridge();

  const auto started = std::chrono::steady_clock::now();
  whisper_context_params cp = whisper_context_default_params();
  cp.flash_attn = params.flash_attn;
  WhisperErrorCapture capture;
  ContextPtr ctx(whisper_init_from_file_with_params_no_state(params.model_path.c_str(), cp));
  if (!ctx) {
    return Error::invalid_config("whisper model " + params.model_path + " could not be loaded (" +
                                 capture.text() +
                                 "); download it again with `scribepod models pull " +
                                 whisper_model_pull_name(params.model_path) + "`");
  }
  std::vector<StatePtr> states;
  for (int i = 0; i < params.max_concurrent; ++i) {
    StatePtr state(whisper_init_state(ctx.get()));
    if (!state) {
      return Error::internal("whisper: could not create decoder state " + std::to_string(i + 1) +
                             " of " + std::to_string(params.max_concurrent) + " (" +
                             capture.text() + ")");
    }
    states.push_back(std::move(state));
  }
  auto engine = std::make_shared<WhisperEngine>(params, *info, std::move(ctx), std::move(states));
  log::info("whisper model loaded", {{"model", params.model_path},
                                     {"size", info->size_name},
                                     {"multilingual", info->multilingual},
                                     {"ftype", info->ftype_name},
                                     {"states", params.max_concurrent},
                                     {"threads", params.threads},
                                     {"load_ms", std::chrono::duration<double, std::milli>(
                                                     std::chrono::steady_clock::now() - started)
                                                     .count()}});
  return std::unique_ptr<Recognizer>(std::make_unique<WhisperRecognizer>(std::move(engine)));
}

}  // namespace scribepod::asr
