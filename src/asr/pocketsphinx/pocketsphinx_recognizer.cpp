#include "asr/pocketsphinx/pocketsphinx_recognizer.h"

#include <sphinxbase/err.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <utility>

#include "asr/pocketsphinx/decoder_pool.h"
#include "asr/pocketsphinx/ps_decoder.h"

namespace scribepod::asr {

namespace {

using ps::PsDecoder;
using ps::PsWord;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kEngine = "pocketsphinx";
constexpr double kFramesPerSecond = 100.0;  // the model's -frate

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The files ps_init() opens; checked up front so a missing package gives a
// clear message instead of a null decoder (or a crash deep in sphinxbase).
Status check_model(const std::string& model_dir) {
  namespace fs = std::filesystem;
  const fs::path dir(model_dir);
  const std::vector<fs::path> required = {
      dir / "en-us" / "mdef",      dir / "en-us" / "means",
      dir / "en-us" / "variances", dir / "en-us" / "transition_matrices",
      dir / "en-us" / "sendump",   dir / "en-us" / "feat.params",
      dir / "en-us" / "noisedict", dir / "en-us.lm.bin",
      dir / "cmudict-en-us.dict",
  };
  for (const auto& path : required) {
    std::error_code ec;
    std::ifstream in(path, std::ios::binary);
    if (!fs::is_regular_file(path, ec) || !in.good()) {
      return Error::invalid_config(
          "PocketSphinx model file " + path.string() +
          " is missing or unreadable (model directory " + model_dir +
          "); install the model with `apt-get install pocketsphinx-en-us` or point the "
          "PocketSphinx model directory at a copy of it");
    }
  }
  return {};
}

// "" and "auto" mean "the engine's default", which is English here.
bool english(const std::string& language) {
  return language.empty() || language == "auto" || language == "en" || language == "en-us" ||
         language == "en-US" || language == "english";
}

Transcript make_transcript(std::vector<PsWord> words, double audio_s, double decode_ms,
                           bool word_timestamps, double segment_gap_s) {
  Transcript t;
  t.language = "en";
  t.engine = std::string(kEngine);
  t.audio_s = audio_s;
  t.decode_ms = decode_ms;
  for (std::size_t i = 0; i < words.size(); ++i) {
    auto& w = words[i];
    if (i == 0 || w.start_s - words[i - 1].end_s >= segment_gap_s) {
      t.segments.push_back(Segment{"", w.start_s, w.end_s, {}});
    }
    Segment& seg = t.segments.back();
    if (!seg.text.empty()) seg.text.push_back(' ');
    seg.text += w.text;
    seg.end_s = w.end_s;
    if (word_timestamps) seg.words.push_back(Word{w.text, w.start_s, w.end_s, w.probability});
  }
  for (const auto& seg : t.segments) {
    if (!t.text.empty()) t.text.push_back(' ');
    t.text += seg.text;
  }
  return t;
}

// What the recogniser and its streams share; streams hold it by shared_ptr
// so the pool outlives every lease even if the recogniser goes first.
struct Shared {
  PocketSphinxParams params;
  std::mutex create_mu;  // builds decoders one at a time (see factory)
  DecoderPool<PsDecoder> pool;
  std::mutex warm_mu;
  std::vector<float> warm_mean;  // mean cepstrum of the last finalised stream

  explicit Shared(const PocketSphinxParams& p)
      : params(p),
        pool(
            p.decoders, [this] { return build(); }, "speech decoders") {}

  Result<std::unique_ptr<PsDecoder>> build() {
    // Loading is I/O- and allocation-heavy and sphinxbase keeps some
    // process-wide state (its logger); one at a time is the safe choice and
    // only costs anything while the pool fills.
    std::lock_guard lock(create_mu);
    return PsDecoder::create(params);
  }

  std::vector<float> warm_start() {
    std::lock_guard lock(warm_mu);
    return warm_mean;
  }
  void remember(std::vector<float> mean) {
    if (mean.empty()) return;
    std::lock_guard lock(warm_mu);
    warm_mean = std::move(mean);
  }
};

// One utterance on one decoder, used by one thread at a time.
class PocketSphinxStream final : public RecognizerStream {
 public:
  PocketSphinxStream(std::shared_ptr<Shared> shared, DecoderPool<PsDecoder>::Lease lease,
                     TranscribeOptions options)
      : shared_(std::move(shared)), lease_(std::move(lease)), options_(std::move(options)) {}
  ~PocketSphinxStream() override {
    // Dropped before finalize(): end the live utterance so the decoder goes
    // back to the pool clean.
    if (lease_) lease_->abort_stream();
  }
  PocketSphinxStream(const PocketSphinxStream&) = delete;
  PocketSphinxStream& operator=(const PocketSphinxStream&) = delete;

  Status begin() {
    PsDecoder::StreamStart start;
    const auto& p = shared_->params;
    if (p.warm_cmn) start.cmn_mean = shared_->warm_start();
    start.restart_frames = static_cast<std::size_t>(p.cmn_restart_ms * kFramesPerSecond / 1000.0);
    start.second_restart_frames =
        static_cast<std::size_t>(p.cmn_second_restart_ms * kFramesPerSecond / 1000.0);
    start.fast_after_frames =
        static_cast<std::size_t>(std::max(p.stream_fwdflat_max_ms, 0) * kFramesPerSecond / 1000.0);
    start.probabilities = options_.word_timestamps;  // only word timestamps show them
    return lease_->begin_stream(start);
  }

  Status feed(std::span<const float> samples) override {
    if (!lease_) return Error::bad_request("the utterance was already finalized");
    const auto start = Clock::now();
    audio_samples_ += samples.size();
    auto status = lease_->feed(samples);
    decode_ms_ += ms_since(start);
    return status;
  }

  Result<std::string> partial() override {
    if (!lease_) return Error::bad_request("the utterance was already finalized");
    return lease_->partial_text();
  }

  Status settle() override {
    if (!lease_) return Error::bad_request("the utterance was already finalized");
    const auto start = Clock::now();
    auto status = lease_->settle_stream();
    decode_ms_ += ms_since(start);
    return status;
  }

  Result<Transcript> finalize() override {
    if (!lease_) return Error::bad_request("the utterance was already finalized");
    const auto start = Clock::now();
    // Only a short utterance is worth a second pass (see redecode_max_s).
    const bool redecode = lease_->speech_seconds() <= shared_->params.redecode_max_s;
    auto words = lease_->finish_stream(redecode);
    decode_ms_ += ms_since(start);
    if (words.ok() && shared_->params.warm_cmn) shared_->remember(lease_->utterance_mean());
    lease_.release();  // the decoder goes back to the pool now, not when we die
    if (!words.ok()) return std::move(words).take_error();
    const double audio_s = static_cast<double>(audio_samples_) / audio::kSampleRate;
    return make_transcript(std::move(words).value(), audio_s, decode_ms_, options_.word_timestamps,
                           shared_->params.segment_gap_s);
  }

 private:
  std::shared_ptr<Shared> shared_;
  DecoderPool<PsDecoder>::Lease lease_;
  TranscribeOptions options_;
  std::size_t audio_samples_ = 0;
  double decode_ms_ = 0;
};

class PocketSphinxRecognizer final : public Recognizer {
 public:
  explicit PocketSphinxRecognizer(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  std::string name() const override { return std::string(kEngine); }

  std::string describe() const override {
    return "pocketsphinx en-us model " + shared_->params.model_dir + ", " +
           std::to_string(shared_->pool.capacity()) + " decoders";
  }

  Result<Transcript> transcribe(const audio::PcmAudio& audio,
                                const TranscribeOptions& options) override {
    if (!english(options.language)) return unsupported_language(options.language);
    auto lease = shared_->pool.acquire(options.max_wait.value_or(shared_->params.acquire_timeout));
    if (!lease.ok()) return std::move(lease).take_error();
    const auto start = Clock::now();
    auto words = lease.value()->decode(audio.samples, options.word_timestamps);
    const double decode_ms = ms_since(start);
    lease.value().release();
    if (!words.ok()) return std::move(words).take_error();
    return make_transcript(std::move(words).value(), audio.duration_s(), decode_ms,
                           options.word_timestamps, shared_->params.segment_gap_s);
  }

  Result<std::unique_ptr<RecognizerStream>> open_stream(const TranscribeOptions& options) override {
    if (!english(options.language)) return unsupported_language(options.language);
    auto lease = shared_->pool.acquire(options.max_wait.value_or(shared_->params.acquire_timeout));
    if (!lease.ok()) return std::move(lease).take_error();
    auto stream = std::make_unique<PocketSphinxStream>(shared_, std::move(lease).value(), options);
    if (auto status = stream->begin(); !status.ok()) return std::move(status).take_error();
    return std::unique_ptr<RecognizerStream>(std::move(stream));
  }

 private:
  static Error unsupported_language(const std::string& language) {
    return Error::bad_request("the PocketSphinx engine recognises English only, not '" + language +
                              "'");
  }

  std::shared_ptr<Shared> shared_;
};

}  // namespace

PocketSphinxParams pocketsphinx_default_params() { return PocketSphinxParams{}; }

Result<std::unique_ptr<Recognizer>> make_pocketsphinx_recognizer(const PocketSphinxParams& params) {
  if (params.decoders == 0) return Error::invalid_config("PocketSphinx needs at least one decoder");
  if (params.cmn_restart_ms < 0 || params.cmn_second_restart_ms < 0 || params.segment_gap_s < 0 ||
      !(params.redecode_max_s >= 0)) {
    return Error::invalid_config("PocketSphinx timing parameters must not be negative");
  }
  if (!params.fwdflat) {
    // PocketSphinx keeps an utterance's features for re-searching only when
    // the decoder's (last built) search has two passes; streams re-search at
    // their restarts and abort inside PocketSphinx without it.
    return Error::invalid_config(
        "PocketSphinx: fwdflat must stay on for the batch search (stream_fwdflat_max_ms turns "
        "it off for long streams)");
  }
  for (double beam : {params.beam, params.wbeam, params.pbeam}) {
    if (!(beam > 0 && beam <= 1)) {
      return Error::invalid_config("PocketSphinx beams must be in (0, 1], e.g. 1e-48");
    }
  }
  if (auto status = check_model(params.model_dir); !status.ok())
    return std::move(status).take_error();
  // PocketSphinx logs pages of configuration to stderr by default. Its
  // logger is process-wide, so it is switched off once, here, rather than
  // per decoder with -logfn (which would reopen a shared FILE* under other
  // threads' feet).
  static std::once_flag quiet;
  std::call_once(quiet, [] { err_set_logfp(nullptr); });

  auto shared = std::make_shared<Shared>(params);
  // Build the first decoder now: a model that is present but broken fails
  // start-up, not the first request.
  auto first = shared->build();
  if (!first.ok()) return std::move(first).take_error();
  shared->pool.add_idle(std::move(first).value());
  return std::unique_ptr<Recognizer>(std::make_unique<PocketSphinxRecognizer>(std::move(shared)));
}

}  // namespace scribepod::asr
