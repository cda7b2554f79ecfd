#include "asr/pocketsphinx/ps_decoder.h"

#include <fmt/format.h>
#include <pocketsphinx.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/fe.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/logmath.h>
#include <sphinxbase/ngram_model.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <utility>

#include "audio/pcm.h"

namespace scribepod::asr::ps {

namespace {

std::int16_t to_pcm16(float x) {
  const float clamped = std::clamp(x, -1.0F, 1.0F);
  return static_cast<std::int16_t>(std::lrint(clamped * 32767.0F));
}

// The name of the batch search (fwdflat, bestpath) when a decoder also has a
// fast search for long streams (see PocketSphinxParams::stream_fwdflat_max_ms):
// the decoder's default search is then the fast one.
constexpr const char* kBatchSearch = "scribepod_batch";
// The name PocketSphinx gives the search ps_init() builds (PS_DEFAULT_SEARCH
// in its internal header).
constexpr const char* kDefaultSearch = "_default";

// Most frames the front end emits from one frame-shift of audio: the frame
// itself plus the pre-speech frames it releases when speech starts (20 by
// default; generous here so -vad_prespeech can grow).
constexpr std::size_t kMaxFramesPerStep = 256;

// The fewest frames a settled segment, or the tail after the last settle,
// is read from. PocketSphinx's lattice asserts on a continued utterance of a
// handful of frames (5-6 did; its feature window is several frames wide).
// Less than this cannot hold a word: a word is longer, and the endpoint that
// ends an utterance after it adds the front end's trailing frames too.
constexpr std::size_t kMinSegmentFrames = 20;

// Our copy of sphinxbase's front end: audio -> cepstra of the frames its
// voice-activity detector keeps, each tagged with its real frame index.
class FrontEnd {
 public:
  explicit FrontEnd(fe_t* fe) : fe_(fe) {
    int shift = 0;
    int size = 0;
    fe_get_input_size(fe_, &shift, &size);
    shift_ = static_cast<std::size_t>(shift);
    size_ = static_cast<std::size_t>(size);
    dim_ = static_cast<std::size_t>(fe_get_output_size(fe_));
    scratch_.resize(kMaxFramesPerStep * dim_);
    for (std::size_t i = 0; i < kMaxFramesPerStep; ++i)
      scratch_rows_.push_back(&scratch_[i * dim_]);
  }
  ~FrontEnd() { fe_free(fe_); }
  FrontEnd(const FrontEnd&) = delete;
  FrontEnd& operator=(const FrontEnd&) = delete;

  // Forgets the last utterance, including the noise estimate, so every
  // utterance is processed the same way.
  void start() {
    fe_start_stream(fe_);
    fe_start_utt(fe_);
    pending_.clear();
    consumed_ = 0;
    cep_.clear();
    index_.clear();
  }

  // Always hands the front end exactly one frame shift at a time, so the
  // frames (and their indices) do not depend on how the caller chunked the
  // audio.
  void push(std::span<const float> samples) {
    for (float x : samples) {
      pending_.push_back(to_pcm16(x));
      if (pending_.size() == shift_) {
        step(pending_.data(), pending_.size());
        pending_.clear();
      }
    }
  }

  void finish() {
    if (!pending_.empty()) step(pending_.data(), pending_.size());
    pending_.clear();
    std::int32_t n = 0;
    fe_end_utt(fe_, scratch_rows_[0], &n);
    if (n > 0) append(1, computed() + 1);
  }

  std::size_t frames() const { return index_.size(); }
  std::size_t dim() const { return dim_; }
  const std::vector<mfcc_t>& cepstra() const { return cep_; }
  // Real (audio) index of kept frame i, in frame shifts from the start.
  std::int64_t real_index(std::size_t i) const { return index_[i]; }
  double seconds_per_frame() const {
    return static_cast<double>(shift_) / static_cast<double>(audio::kSampleRate);
  }
  double audio_seconds() const {
    return static_cast<double>(consumed_ + pending_.size()) /
           static_cast<double>(audio::kSampleRate);
  }

 private:
  // Frames fully covered by the audio consumed so far.
  std::int64_t computed() const {
    if (consumed_ < size_) return 0;
    return static_cast<std::int64_t>((consumed_ - size_) / shift_ + 1);
  }

  void step(const std::int16_t* data, std::size_t n) {
    const std::int16_t* p = data;
    std::size_t left = n;
    auto frames = static_cast<std::int32_t>(kMaxFramesPerStep);
    fe_process_frames(fe_, &p, &left, scratch_rows_.data(), &frames, nullptr);
    consumed_ += n - left;
    // What the front end emits in one step is always the newest frames: the
    // current one, or the pre-speech buffer ending at the current one.
    if (frames > 0) append(static_cast<std::size_t>(frames), computed());
  }

  void append(std::size_t n, std::int64_t end_index) {
    for (std::size_t i = 0; i < n; ++i) {
      cep_.insert(cep_.end(), scratch_rows_[i], scratch_rows_[i] + dim_);
      index_.push_back(std::max<std::int64_t>(0, end_index - static_cast<std::int64_t>(n - i)));
    }
  }

  fe_t* fe_;
  std::size_t shift_ = 160;
  std::size_t size_ = 410;
  std::size_t dim_ = 13;
  std::vector<mfcc_t> scratch_;
  std::vector<mfcc_t*> scratch_rows_;
  std::vector<std::int16_t> pending_;
  std::size_t consumed_ = 0;
  std::vector<mfcc_t> cep_;
  std::vector<std::int64_t> index_;
};

std::vector<mfcc_t*> rows_of(std::vector<mfcc_t>& cep, std::size_t dim, std::size_t from) {
  std::vector<mfcc_t*> rows;
  for (std::size_t i = from; i * dim < cep.size(); ++i) rows.push_back(&cep[i * dim]);
  return rows;
}

// Searches `rows` one frame per call. PocketSphinx's live CMN moves its
// mean at the end of the call that takes it past its window (800 frames):
// with larger calls, where it moved, and so the words, would depend on how
// the frames were grouped, which for a stream depends on timing (the chunks
// a client sends, a background re-search catching up). One frame per call
// makes a stream's words the same however its audio came.
int search_frames(ps_decoder_t* ps, std::vector<mfcc_t*>& rows) {
  for (mfcc_t*& row : rows) {
    if (ps_process_cep(ps, &row, 1, FALSE, FALSE) < 0) return -1;
  }
  return 0;
}

std::string joined(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + " " + b;
}

std::string join_clean(const char* hyp) {
  if (hyp == nullptr) return {};
  std::string out;
  std::string_view rest(hyp);
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    const auto word = clean_word(rest.substr(0, space));
    if (!word.empty()) {
      if (!out.empty()) out.push_back(' ');
      out += word;
    }
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  return out;
}

// One PocketSphinx decoder handle: acoustic model, dictionary, searches.
struct Handle {
  ps_decoder_t* ps = nullptr;
  feat_t* feat = nullptr;
  bool has_batch_search = false;
};

// A second n-gram search over the same language model (shared, not loaded
// again) with the batch settings: a search reads -fwdflat and -bestpath from
// the decoder's configuration when it is built, so they are set for the
// moment and put back. It is built last on purpose: building a search also
// sets the acoustic model's feature buffer to keep the whole utterance only
// if that search has two passes, and without that, fwdflat cannot rewind and
// a stream's restarts corrupt the live search (an assertion in
// ngram_search_fwdtree.c).
Status add_batch_search(Handle& h, const PocketSphinxParams& params) {
  ngram_model_t* lm = ps_get_lm(h.ps, kDefaultSearch);
  if (lm == nullptr) return Error::internal("PocketSphinx has no language model to share");
  // The default search holds its model inside a one-model set; share the
  // model itself rather than nest the set.
  if (ngram_model_set_iter_t* it = ngram_model_set_iter(lm); it != nullptr) {
    const char* name = nullptr;
    if (ngram_model_t* inner = ngram_model_set_iter_model(it, &name); inner != nullptr) lm = inner;
    ngram_model_set_iter_free(it);
  }
  cmd_ln_t* config = ps_get_config(h.ps);
  cmd_ln_set_int_r(config, "-fwdflat", params.fwdflat ? 1 : 0);
  cmd_ln_set_int_r(config, "-bestpath", params.bestpath ? 1 : 0);
  const int rc = ps_set_lm(h.ps, kBatchSearch, lm);
  cmd_ln_set_int_r(config, "-fwdflat", 0);
  cmd_ln_set_int_r(config, "-bestpath", params.stream_bestpath ? 1 : 0);
  if (rc < 0) return Error::internal("PocketSphinx could not build its batch search");
  h.has_batch_search = true;
  return {};
}

// A handle as PsDecoder::create configures it (the caller frees h.ps). One
// at a time in the process: loading is I/O- and allocation-heavy, and
// sphinxbase keeps some process-wide state; second handles are built on
// threads of their own.
Result<Handle> build_handle(const PocketSphinxParams& params) {
  static std::mutex build_mu;
  std::lock_guard lock(build_mu);
  const std::filesystem::path dir(params.model_dir);
  const bool fast = params.stream_fwdflat_max_ms >= 0;
  // No -logfn: PocketSphinx's log is process-wide and make_pocketsphinx_recognizer
  // switches it off once; -logfn would reopen it on every decoder we build,
  // racing with decoders that log on other threads.
  std::vector<std::string> args = {
      "-hmm",
      (dir / "en-us").string(),
      "-lm",
      (dir / "en-us.lm.bin").string(),
      "-dict",
      (dir / "cmudict-en-us.dict").string(),
      "-beam",
      fmt::format("{:g}", params.beam),
      "-wbeam",
      fmt::format("{:g}", params.wbeam),
      "-pbeam",
      fmt::format("{:g}", params.pbeam),
      // With a fast search, it is the decoder's own; see add_batch_search().
      "-fwdflat",
      fast ? "no" : (params.fwdflat ? "yes" : "no"),
      "-bestpath",
      (fast ? params.stream_bestpath : params.bestpath) ? "yes" : "no",
  };
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  cmd_ln_t* config =
      cmd_ln_parse_r(nullptr, ps_args(), static_cast<std::int32_t>(argv.size()), argv.data(), TRUE);
  if (config == nullptr) return Error::invalid_config("PocketSphinx rejected its parameters");
  Handle h;
  h.ps = ps_init(config);
  cmd_ln_free_r(config);  // the decoder keeps its own reference
  if (h.ps == nullptr) {
    return Error::invalid_config("PocketSphinx could not load the model in " + params.model_dir +
                                 " (corrupt or incompatible files?); reinstall it with "
                                 "`apt-get install --reinstall pocketsphinx-en-us`");
  }
  h.feat = ps_get_feat(h.ps);
  if (fast) {
    if (auto s = add_batch_search(h, params); !s) {
      ps_free(h.ps);
      return std::move(s).take_error();
    }
  }
  return h;
}

// What mapping a finished search's frames to audio time needs, copied so
// that another thread can do it while the front end goes on.
struct FrameTimes {
  std::vector<std::int64_t> real_index;  // of the search's frames 0, 1, ...
  double seconds_per_frame = 0.01;
  double audio_s = 0;
  // Whether to compute each word's posterior probability: a pass over the
  // lattice, ~10-80 ms for 2.5 s of speech; only word timestamps show it.
  bool probabilities = true;
};

// The finished utterance's words on `ps`, fillers dropped, frames mapped to
// audio time through the front end's real frame indices.
std::vector<PsWord> words_of(ps_decoder_t* ps, const FrameTimes& t) {
  std::vector<PsWord> words;
  if (t.real_index.empty()) return words;
  logmath_t* lmath = ps_get_logmath(ps);
  const std::size_t last = t.real_index.size() - 1;
  for (ps_seg_t* seg = ps_seg_iter(ps); seg != nullptr; seg = ps_seg_next(seg)) {
    auto text = clean_word(ps_seg_word(seg));
    if (text.empty()) continue;
    int sf = 0;
    int ef = 0;
    ps_seg_frames(seg, &sf, &ef);
    const auto first = std::min<std::size_t>(static_cast<std::size_t>(std::max(sf, 0)), last);
    const auto end = std::min<std::size_t>(static_cast<std::size_t>(std::max({ef, sf, 0})), last);
    PsWord word;
    word.text = std::move(text);
    word.start_s =
        std::min(t.audio_s, static_cast<double>(t.real_index[first]) * t.seconds_per_frame);
    word.end_s =
        std::min(t.audio_s, static_cast<double>(t.real_index[end] + 1) * t.seconds_per_frame);
    if (t.probabilities) {
      const double p = logmath_exp(lmath, ps_seg_prob(seg, nullptr, nullptr, nullptr));
      word.probability = static_cast<float>(std::clamp(p, 0.0, 1.0));
    }
    words.push_back(std::move(word));
  }
  return words;
}

}  // namespace

struct PsDecoder::Impl {
  // The live handle: the one searching the current segment. Null while every
  // handle is busy in the background (the segment's frames wait in the front
  // end and are searched as soon as a handle is free).
  ps_decoder_t* ps = nullptr;
  feat_t* feat = nullptr;
  cmn_type_t batch_cmn = CMN_BATCH;
  std::unique_ptr<FrontEnd> fe;
  // The fast search (PocketSphinx's default) when has_batch_search; else the
  // only one, with the batch settings.
  std::string live_search;
  bool has_batch_search = false;
  // Streaming state.
  bool live = false;
  std::size_t searched = 0;  // frames already given to the live search
  std::size_t restart_frames = 0;
  bool restart_pending = false;
  std::size_t second_restart_frames = 0;
  std::size_t restarts = 0;
  bool fast_pending = false;    // the segment is on the batch search, to switch
  std::size_t fast_frames = 0;  // frames of a segment after which it switches
  bool fast_enabled = false;    // whether long segments switch at all
  std::string segment_search;   // the search each segment starts on
  bool probabilities = true;    // words get their posterior (FrameTimes)
  // Settled segments (see settle_stream()): frames before segment_start are
  // decoded for good, their words in `settled` (or still being finished, in
  // `jobs`).
  std::size_t segment_start = 0;
  std::vector<PsWord> settled;
  std::string settled_text;
  std::size_t settles = 0;
  // Background work (PocketSphinxParams::background_search): a second
  // handle, built on the first stream by another thread, lets the slow
  // steps run off the stream's thread. A settle hands the live handle to a
  // job that finishes the segment (fwdflat, bestpath, words) and goes on
  // with an idle handle; a restart re-searches the segment on the idle
  // handle, which then takes over while the old one is discarded (its
  // utterance ended, by a job). A job gives its handle back to `idle`.
  PocketSphinxParams params;
  std::future<Result<Handle>> spare_build;
  std::size_t handles = 1;  // built so far (2 with the second one)
  std::vector<Handle> idle;
  struct Job {
    bool ends_segment = false;  // its words are a settled segment's; else discarded
    Handle handle;
    std::future<Result<std::vector<PsWord>>> done;
    std::string text;  // a settled segment's last partial, shown meanwhile
  };
  std::deque<Job> jobs;  // in the order they were started
  Status ending_error;
  std::size_t background_settles = 0;
  // A restart in the background: `restart_handle` re-searches the segment's
  // frames up to restart_end with the new mean while the live handle goes on
  // with the old one; then it catches up and takes over (collect_restart()).
  std::future<Status> restarting;
  Handle restart_handle;
  std::size_t restart_end = 0;
  std::size_t background_restarts = 0;

  ~Impl() {
    wait_for_jobs();
    if (restarting.valid()) {
      (void)restarting.get();
      ps_end_utt(restart_handle.ps);  // the re-search's utterance, never taken over
      idle.push_back(restart_handle);
    }
    take_built_handle(std::chrono::hours(1));
    fe.reset();
    if (ps != nullptr) {
      if (live) ps_end_utt(ps);
      ps_free(ps);
    }
    for (const Handle& h : idle) ps_free(h.ps);
  }

  // The second handle, once its build is done (waiting up to `timeout`).
  void take_built_handle(std::chrono::milliseconds timeout) {
    if (!spare_build.valid() || spare_build.wait_for(timeout) != std::future_status::ready) return;
    auto built = spare_build.get();
    if (!built.ok()) return;  // settles and restarts stay on the stream's thread
    idle.push_back(*built);
    ++handles;
  }

  // Takes in the jobs that are done (every job, when `wait`): a settled
  // segment's words in segment order, and the handles they free.
  void collect_jobs(bool wait) {
    bool segment_waiting = false;  // an earlier segment is not finished yet
    for (auto it = jobs.begin(); it != jobs.end();) {
      if ((it->ends_segment && segment_waiting) ||
          (!wait && it->done.wait_for(std::chrono::seconds(0)) != std::future_status::ready)) {
        segment_waiting = segment_waiting || it->ends_segment;
        ++it;
        continue;
      }
      auto words = it->done.get();
      if (it->ends_segment) {
        if (words.ok()) {
          keep(std::move(words).value());
        } else if (ending_error.ok()) {
          ending_error = std::move(words).take_error();
        }
      }
      idle.push_back(it->handle);
      it = jobs.erase(it);
    }
  }
  void wait_for_jobs() { collect_jobs(true); }

  // The last partials of the segments still being finished.
  std::string ending_text() const {
    std::string text;
    for (const Job& j : jobs) {
      if (j.ends_segment) text = joined(text, j.text);
    }
    return text;
  }

  // Makes an idle handle the live one (the caller starts its utterance).
  bool take_idle() {
    if (ps != nullptr) return true;
    take_built_handle(std::chrono::milliseconds(0));
    if (idle.empty()) return false;
    ps = idle.back().ps;
    feat = idle.back().feat;
    idle.pop_back();
    return true;
  }

  // Starts a segment at segment_start on the live handle, from `mean`.
  Status start_segment(std::span<const float> mean) {
    feat->cmn = CMN_LIVE;
    set_live_mean(mean);
    if (has_batch_search && ps_set_search(ps, segment_search.c_str()) < 0) {
      return Error::internal("PocketSphinx failed to select its streaming search");
    }
    if (ps_start_utt(ps) < 0) return Error::internal("PocketSphinx failed to start an utterance");
    searched = segment_start;
    return {};
  }

  // Whether a handle is free for a background restart (none is in flight:
  // search_new_frames() collects it first).
  bool restart_handle_ready() {
    take_built_handle(std::chrono::milliseconds(0));
    collect_jobs(false);
    return !idle.empty();
  }

  Status start_background_restart(const std::vector<float>& mean, const std::string& search) {
    restart_handle = idle.back();
    idle.pop_back();
    Handle h = restart_handle;
    set_live_mean_of(h.feat, mean);
    h.feat->cmn = CMN_LIVE;
    restart_end = fe->frames();
    const std::size_t dim = fe->dim();
    const bool select = has_batch_search;
    restarting = std::async(std::launch::async, [h, cep = cepstra(segment_start, restart_end), dim,
                                                 search, select]() mutable {
      auto rows = rows_of(cep, dim, 0);
      if (select && ps_set_search(h.ps, search.c_str()) < 0)
        return Status(Error::internal("PocketSphinx failed to select its search"));
      if (ps_start_utt(h.ps) < 0)
        return Status(Error::internal("PocketSphinx failed to restart the utterance"));
      if (search_frames(h.ps, rows) < 0) {
        return Status(Error::internal("PocketSphinx failed to process audio"));
      }
      return Status();
    });
    ++background_restarts;
    return {};
  }

  // Hands the live handle to a job that ends its utterance, result unused.
  void discard_live() {
    ps_decoder_t* old = ps;
    jobs.push_back(Job{false,
                       Handle{ps, feat, has_batch_search},
                       std::async(std::launch::async,
                                  [old] {
                                    ps_end_utt(old);
                                    return Result<std::vector<PsWord>>(std::vector<PsWord>{});
                                  }),
                       {}});
    ps = nullptr;
    feat = nullptr;
  }

  // Once a background restart is done (or at once, when `wait`): the
  // restarted handle searches what came since and takes over the stream; the
  // old one is discarded.
  Status collect_restart(bool wait) {
    if (!restarting.valid()) return {};
    if (!wait && restarting.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return {};
    }
    auto status = restarting.get();
    if (fe->frames() > restart_end && status.ok()) {
      auto cep = cepstra(restart_end, fe->frames());
      auto rows = rows_of(cep, fe->dim(), 0);
      if (search_frames(restart_handle.ps, rows) < 0) {
        status = Error::internal("PocketSphinx failed to process audio");
      }
    }
    if (!status.ok()) {
      ps_end_utt(restart_handle.ps);
      idle.push_back(restart_handle);
      return status;
    }
    discard_live();
    ps = restart_handle.ps;
    feat = restart_handle.feat;
    searched = fe->frames();
    return {};
  }

  // The front end's frames [from, to) as the search that saw them numbers them.
  FrameTimes frame_times(std::size_t from, std::size_t to) const {
    FrameTimes t;
    t.seconds_per_frame = fe->seconds_per_frame();
    t.audio_s = fe->audio_seconds();
    t.probabilities = probabilities;
    to = std::min(to, fe->frames());
    for (std::size_t i = from; i < to; ++i) t.real_index.push_back(fe->real_index(i));
    return t;
  }

  std::vector<float> mean_of_frames() const {
    const std::size_t dim = fe->dim();
    const std::size_t n = fe->frames();
    std::vector<float> mean;
    if (n == 0) return mean;
    std::vector<double> sum(dim, 0.0);
    const auto& cep = fe->cepstra();
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < dim; ++j) sum[j] += static_cast<double>(cep[i * dim + j]);
    }
    for (double s : sum) mean.push_back(static_cast<float>(s / static_cast<double>(n)));
    return mean;
  }

  void set_live_mean(std::span<const float> mean) { set_live_mean_of(feat, mean); }
  void set_live_mean_of(feat_t* f, std::span<const float> mean) const {
    std::vector<mfcc_t> vec(fe->dim(), 0);
    std::copy_n(mean.begin(), std::min(mean.size(), vec.size()), vec.begin());
    cmn_live_set(f->cmn_struct, vec.data());
  }

  // A copy of the front end's cepstra of frames [from, to) (the search
  // normalises what it is given in place; our buffer stays raw).
  std::vector<mfcc_t> cepstra(std::size_t from, std::size_t to) const {
    const auto& all = fe->cepstra();
    return {all.begin() + static_cast<std::ptrdiff_t>(from * fe->dim()),
            all.begin() + static_cast<std::ptrdiff_t>(to * fe->dim())};
  }

  // Appends a settled segment's words.
  void keep(std::vector<PsWord> words) {
    for (auto& w : words) {
      settled_text = joined(settled_text, w.text);
      settled.push_back(std::move(w));
    }
  }

  // Gives the live search every frame it has not seen yet, first taking an
  // idle handle as the live one if there was none. Once the utterance has
  // `restart_frames` frames of speech, the live search is restarted from the
  // mean of that speech: the seed was a guess, and a wrong guess spoils
  // everything searched with it. A second restart at
  // `second_restart_frames` refines the mean from more speech. Re-searching
  // costs that much audio once per restart, whatever the utterance's length.
  // At `fast_frames` the stream moves from the batch search to the fast one
  // the same way (with a restart), so the end of a long utterance skips the
  // fwdflat pass.
  Status search_new_frames() {
    collect_jobs(false);
    if (auto s = collect_restart(false); !s) return s;
    if (ps == nullptr) {
      if (!take_idle()) return {};  // every handle is busy: the frames wait
      // The segment starts from the mean of all the speech so far.
      if (auto s = start_segment(mean_of_frames()); !s) return s;
    }
    const bool cmn_due = restart_pending && fe->frames() >= restart_frames;
    const bool switch_due = fast_pending && fe->frames() >= segment_start + fast_frames;
    if (cmn_due || switch_due) {
      // A restart due while the last one is still re-searching (audio sent
      // faster than real time) waits for it, so that it lands where it is
      // due and the words do not depend on how fast the re-search was.
      if (auto s = collect_restart(true); !s) return s;
      // All frames so far: the restart lands at the end of the caller's chunk,
      // so its timing can move a word edge by a frame. (The mean of exactly
      // restart_frames frames would not, but measured worse on JFK's partials.)
      const std::vector<float> mean = mean_of_frames();
      if (cmn_due) {
        // After the first restart, the second one (if any) is the next.
        restart_pending = restarts == 0 && second_restart_frames > 0;
        if (restart_pending) restart_frames = second_restart_frames;
        ++restarts;
      }
      if (switch_due) fast_pending = false;
      const std::string search = switch_due ? live_search : segment_search;
      if (restart_handle_ready()) return start_background_restart(mean, search);
      if (ps_end_utt(ps) < 0)
        return Error::internal("PocketSphinx failed to restart the utterance");
      set_live_mean(mean);
      if (has_batch_search && ps_set_search(ps, search.c_str()) < 0)
        return Error::internal("PocketSphinx failed to select its search");
      if (ps_start_utt(ps) < 0)
        return Error::internal("PocketSphinx failed to restart the utterance");
      searched = segment_start;  // settled segments stay as they are
    }
    if (fe->frames() <= searched) return {};
    auto cep = cepstra(searched, fe->frames());
    auto rows = rows_of(cep, fe->dim(), 0);
    if (search_frames(ps, rows) < 0) {
      return Error::internal("PocketSphinx failed to process audio");
    }
    searched = fe->frames();
    return {};
  }

  // Settles the live handle's segment [segment_start, searched) in the
  // background: a job ends its utterance and reads its words. With a restart
  // in flight, the restarted handle's search is the better one (its mean is
  // the speech's own): the job waits for it, gives it the frames since the
  // restart, and finishes that one; the live handle's search is discarded.
  void settle_in_background() {
    FrameTimes times = frame_times(segment_start, searched);
    std::string text = join_clean(ps_get_hyp(ps, nullptr));
    const bool restarted = restarting.valid();
    const Handle h = restarted ? restart_handle : Handle{ps, feat, has_batch_search};
    // With a restart: the frames since it, for the restarted search; else none.
    auto cep = restarted ? cepstra(restart_end, searched) : std::vector<mfcc_t>{};
    jobs.push_back(Job{
        true, h,
        std::async(std::launch::async,
                   [h, re = std::move(restarting), cep = std::move(cep), dim = fe->dim(),
                    times = std::move(times)]() mutable {
                     using Words = Result<std::vector<PsWord>>;
                     Status status = re.valid() ? re.get() : Status();
                     auto rows = rows_of(cep, dim, 0);
                     if (status.ok() && search_frames(h.ps, rows) < 0) {
                       status = Error::internal("PocketSphinx failed to process audio");
                     }
                     const bool ended = ps_end_utt(h.ps) >= 0;
                     if (!status.ok()) return Words(status.error());
                     if (!ended) {
                       return Words(Error::internal("PocketSphinx failed to settle the utterance"));
                     }
                     return Words(words_of(h.ps, times));
                   }),
        std::move(text)});
    if (restarted) {
      discard_live();
    } else {
      ps = nullptr;
      feat = nullptr;
    }
    ++background_settles;
  }

  // One batch pass over the buffered utterance. Batch CMN (the mean of this
  // utterance) is restored first: sphinxbase switches a decoder to live CMN
  // for good once it has searched incrementally.
  Result<std::vector<PsWord>> decode_buffered(double audio_s) {
    if (fe->frames() == 0) return std::vector<PsWord>{};  // nothing passed the VAD: silence
    if (has_batch_search && ps_set_search(ps, kBatchSearch) < 0) {
      return Error::internal("PocketSphinx failed to select its batch search");
    }
    feat->cmn = batch_cmn;
    // ps_process_cep(full_utt) normalises the frames in place: give it a copy.
    auto cep = fe->cepstra();
    auto rows = rows_of(cep, fe->dim(), 0);
    if (ps_start_utt(ps) < 0) return Error::internal("PocketSphinx failed to start an utterance");
    const int searched_frames =
        ps_process_cep(ps, rows.data(), static_cast<int>(rows.size()), FALSE, TRUE);
    if (ps_end_utt(ps) < 0 || searched_frames < 0) {
      return Error::internal("PocketSphinx failed to decode the utterance");
    }
    return words_of_last_utterance(audio_s);
  }

  // The finished utterance's words; `first_frame`: the front-end frame the
  // search's frame 0 was.
  std::vector<PsWord> words_of_last_utterance(double audio_s, std::size_t first_frame = 0) {
    FrameTimes t = frame_times(first_frame, fe->frames());
    t.audio_s = audio_s;
    return words_of(ps, t);
  }

  // Between streams: no background work left, a live handle to start on.
  void idle_between_streams() {
    wait_for_jobs();
    (void)take_idle();
  }
};

std::string clean_word(std::string_view word) {
  if (word.empty() || word.front() == '<' || word.front() == '[' || word.starts_with("++"))
    return {};
  if (word.back() == ')') {
    const auto open = word.rfind('(');
    if (open != std::string_view::npos && open > 0) word = word.substr(0, open);
  }
  return std::string(word);
}

PsDecoder::PsDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PsDecoder::~PsDecoder() = default;

Result<std::unique_ptr<PsDecoder>> PsDecoder::create(const PocketSphinxParams& params) {
  auto handle = build_handle(params);
  if (!handle.ok()) return std::move(handle).take_error();
  auto impl = std::make_unique<Impl>();
  impl->ps = handle->ps;
  impl->feat = handle->feat;
  impl->has_batch_search = handle->has_batch_search;
  impl->params = params;
  impl->batch_cmn = impl->feat->cmn;
  // (ps_get_search() would name it, but leaks an iterator on every call.)
  impl->live_search = kDefaultSearch;
  fe_t* fe = fe_init_auto_r(ps_get_config(impl->ps));
  if (fe == nullptr)
    return Error::invalid_config("PocketSphinx front end rejected the model's feature parameters");
  impl->fe = std::make_unique<FrontEnd>(fe);

  std::vector<mfcc_t> init(impl->fe->dim(), 0);
  cmn_live_get(impl->feat->cmn_struct, init.data());
  std::unique_ptr<PsDecoder> decoder(new PsDecoder(std::move(impl)));
  decoder->model_cmn_.assign(init.begin(), init.end());
  return decoder;
}

Result<std::vector<PsWord>> PsDecoder::decode(std::span<const float> samples, bool probabilities) {
  if (impl_->live) return Error::internal("PsDecoder::decode called during a stream");
  impl_->idle_between_streams();
  impl_->probabilities = probabilities;
  impl_->fe->start();
  impl_->fe->push(samples);
  impl_->fe->finish();
  return impl_->decode_buffered(static_cast<double>(samples.size()) / audio::kSampleRate);
}

Status PsDecoder::begin_stream(const StreamStart& start) {
  auto& d = *impl_;
  if (d.live) return Error::internal("PsDecoder::begin_stream called twice");
  d.idle_between_streams();  // (finish_stream and abort_stream already did)
  if (d.params.background_search && d.handles == 1 && !d.spare_build.valid()) {
    d.spare_build = std::async(std::launch::async, [p = d.params] { return build_handle(p); });
  }
  d.ending_error = {};
  d.probabilities = start.probabilities;
  d.fe->start();
  d.restarts = 0;
  d.segment_start = 0;
  d.settled.clear();
  d.settled_text.clear();
  d.settles = 0;
  d.restart_frames = start.restart_frames;
  d.restart_pending = start.restart_frames > 0;
  d.second_restart_frames =
      start.second_restart_frames > start.restart_frames ? start.second_restart_frames : 0;
  // Short utterances get both passes at their end (cheap, and they need
  // them most); a long one moves to the fast search at fast_after_frames.
  const bool fast_now = d.has_batch_search && start.fast_after_frames == 0;
  d.fast_pending = d.has_batch_search && !fast_now;
  d.fast_enabled = d.fast_pending;
  d.fast_frames = start.fast_after_frames;
  d.segment_search = fast_now ? d.live_search : std::string(kBatchSearch);
  // Always set the starting mean, so a stream does not inherit whatever the
  // previous utterance on this decoder left behind.
  if (auto s = d.start_segment(start.cmn_mean.empty() ? std::span<const float>(model_cmn_)
                                                      : std::span<const float>(start.cmn_mean));
      !s) {
    return s;
  }
  d.live = true;
  last_live_text_.clear();
  return {};
}

Status PsDecoder::feed(std::span<const float> samples) {
  if (!impl_->live) return Error::internal("PsDecoder::feed called outside a stream");
  impl_->fe->push(samples);
  return impl_->search_new_frames();
}

std::string PsDecoder::partial_text() {
  auto& d = *impl_;
  if (!d.live) return {};
  d.collect_jobs(false);
  const std::string live = d.ps == nullptr ? std::string() : join_clean(ps_get_hyp(d.ps, nullptr));
  return joined(joined(d.settled_text, d.ending_text()), live);
}

Status PsDecoder::settle_stream() {
  auto& d = *impl_;
  if (!d.live) return Error::internal("PsDecoder::settle_stream called outside a stream");
  if (auto s = d.search_new_frames(); !s) return s;
  // Every handle is busy, or too little since the last settle: it stays
  // part of the next segment.
  if (d.ps == nullptr || d.searched < d.segment_start + kMinSegmentFrames) return {};
  if (d.params.background_search) {
    // The segment is finished in the background; the stream goes on with
    // an idle handle, or waits for one (its frames are kept meanwhile).
    d.settle_in_background();
  } else {
    // (No background restarts without a second handle: nothing to collect.)
    if (ps_end_utt(d.ps) < 0) return Error::internal("PocketSphinx failed to settle the utterance");
    d.keep(d.words_of_last_utterance(d.fe->audio_seconds(), d.segment_start));
  }
  d.segment_start = d.searched;
  ++d.settles;
  // The next segment starts from the mean of all the speech so far, and on
  // the batch search again: it is short until it proves otherwise.
  if (d.fast_enabled) d.fast_pending = true;
  if (d.ps == nullptr && !d.take_idle()) return {};
  return d.start_segment(d.mean_of_frames());
}

Result<std::vector<PsWord>> PsDecoder::finish_stream(bool redecode) {
  auto& d = *impl_;
  if (!d.live) return Error::internal("PsDecoder::finish_stream called outside a stream");
  d.fe->finish();
  d.restart_pending = false;  // too short to restart: not worth it this late
  d.fast_pending = false;     // switching now would re-search it all
  d.live = false;
  const auto fail = [&](Error error) {
    if (d.ps != nullptr) ps_end_utt(d.ps);
    d.idle_between_streams();
    return Result<std::vector<PsWord>>(std::move(error));
  };
  if (auto s = d.collect_restart(true); !s) return fail(s.error());
  // The audio since the last settle needs a handle (unless too short to
  // hold a word): with every one busy, wait for them.
  const bool tail = d.settles == 0 || d.fe->frames() >= d.segment_start + kMinSegmentFrames;
  if (d.ps == nullptr && tail) d.wait_for_jobs();
  if (auto s = d.search_new_frames(); !s) return fail(s.error());
  // The last partial, as a listener saw it. (After ps_end_utt, ps_get_hyp
  // would run the bestpath search over the live lattice: ~1 s for 25 s of
  // speech, wasted when the batch pass follows.)
  const std::string hyp = d.ps == nullptr ? std::string() : join_clean(ps_get_hyp(d.ps, nullptr));
  last_live_text_ = joined(joined(d.settled_text, d.ending_text()), hyp);
  // The tail ends here while the settled segments finish in the background.
  if (d.ps != nullptr && ps_end_utt(d.ps) < 0) {
    d.idle_between_streams();
    return Error::internal("PocketSphinx failed to finish the utterance");
  }
  std::vector<PsWord> last;
  if (tail && !redecode) last = d.words_of_last_utterance(d.fe->audio_seconds(), d.segment_start);
  d.wait_for_jobs();
  (void)d.take_idle();
  if (!d.ending_error.ok()) return d.ending_error.error();
  if (redecode) return d.decode_buffered(d.fe->audio_seconds());
  std::vector<PsWord> words = std::move(d.settled);
  d.settled.clear();
  words.insert(words.end(), std::make_move_iterator(last.begin()),
               std::make_move_iterator(last.end()));
  return words;
}

void PsDecoder::abort_stream() {
  auto& d = *impl_;
  if (!d.live) return;
  if (d.restarting.valid()) {
    (void)d.restarting.get();
    ps_end_utt(d.restart_handle.ps);  // the re-search's utterance
    d.idle.push_back(d.restart_handle);
  }
  if (d.ps != nullptr) ps_end_utt(d.ps);
  d.live = false;
  d.idle_between_streams();
}

std::size_t PsDecoder::live_restarts() const { return impl_->restarts; }

std::size_t PsDecoder::settles() const { return impl_->settles; }

std::size_t PsDecoder::background_settles() const { return impl_->background_settles; }

std::size_t PsDecoder::background_restarts() const { return impl_->background_restarts; }

bool PsDecoder::wait_for_second_handle(std::chrono::milliseconds timeout) {
  impl_->take_built_handle(timeout);
  return impl_->handles > 1;
}

double PsDecoder::speech_seconds() const {
  return static_cast<double>(impl_->fe->frames()) * impl_->fe->seconds_per_frame();
}

std::vector<float> PsDecoder::utterance_mean() const { return impl_->mean_of_frames(); }

}  // namespace scribepod::asr::ps
