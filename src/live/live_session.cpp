// The live pipeline behind one connection: see stream_pipeline.h.
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <mutex>
#include <optional>
#include <variant>

#include "live/audio_input.h"
#include "live/live_pipeline.h"
#include "live/realtime_rate_guard.h"
#include "live/recognition_stage.h"
#include "live/session_opener.h"
#include "live/stream_events.h"
#include "live/utterance_segmenter.h"
#include "telemetry/log.h"
#include "telemetry/service_metrics.h"

namespace scribepod::live {
namespace {

namespace asio = boost::asio;
using Strand = asio::strand<asio::thread_pool::executor_type>;

constexpr double kBehindMs = 1000;   // backlog above which partials are skipped
constexpr double kCaughtUpMs = 500;  // ... and below which a busy episode ends
constexpr auto kRetryDelay = std::chrono::milliseconds(50);
constexpr int kMaxDrainRetries = 200;  // 10 s waiting for a dropped session's flush

double ms_between(SteadyTime a, SteadyTime b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// scribepod_queue_depth{stage} for the pipeline's bounded queues, summed
// over sessions: audio frames admitted and waiting for the compute pool
// (bounded by live.max_backlog), utterances waiting for a decoder (bounded
// by the same backlog), finals waiting for or in the thoughts engine. Each
// session adds its own depths and takes them back when it goes away.
struct QueueGauges {
  metrics::Gauge& audio;
  metrics::Gauge& recognition;
  metrics::Gauge& thoughts;

  static QueueGauges resolve() {
    auto& f = metrics::service().queue_depth;
    return {f.with({"audio"}), f.with({"recognition"}), f.with({"thoughts"})};
  }
};

class Pipeline : public std::enable_shared_from_this<Pipeline> {
 public:
  Pipeline(StreamDeps& deps, EventSink sink)
      : recognizer_(deps.recognizer),
        conversations_(deps.conversations),
        strand_(asio::make_strand(deps.compute.get_executor())),
        mind_strand_(asio::make_strand(deps.mind.get_executor())),
        live_(deps.live),
        language_(deps.language),
        resume_(deps.resume),
        now_(deps.now),
        preroll_(deps.preroll),
        rate_burst_(deps.rate_burst),
        sink_(std::move(sink)),
        gauges_(QueueGauges::resolve()) {}

  ~Pipeline() {
    gauges_.audio.dec(static_cast<double>(audio_queued_.load()));
    gauges_.recognition.dec(static_cast<double>(recognition_waiting_));
    gauges_.thoughts.dec(pending_mind_);
  }

  // ---- transport side (serial, never blocks) ----

  void on_text(std::string_view text) {
    if (transport_closed_) return;
    ParsedMessage parsed = parse_client_message(text);
    if (!parsed.ok())
      return fatal(parsed.error.code, parsed.error.message, parsed.error.close_code);
    auto self = shared_from_this();
    if (auto* start = std::get_if<StartMessage>(&*parsed.message)) {
      if (started_) return fatal("bad_request", "start was already sent", 1007);
      started_ = true;
      encoding_ = start->encoding;
      sample_rate_ = start->sample_rate;
      rate_.emplace(live_.max_realtime_factor, static_cast<double>(rate_burst_.count()), now_());
      asio::post(strand_, [self, m = std::move(*start)] { self->handle_start(m, 0); });
      return;
    }
    if (!started_) return fatal("bad_request", "the first message must be start", 1003);
    const bool stop = std::holds_alternative<StopMessage>(*parsed.message);
    if (stop) transport_closed_ = true;  // nothing after stop is read
    const SteadyTime at = now_();
    asio::post(strand_, [self, stop, at] {
      self->close_utterance(stop ? EndReason::kStop : EndReason::kEndOfTurn, at);
      if (stop) self->begin_close("", "", 1000);
    });
  }

  void on_audio(std::span<const uint8_t> bytes) {
    if (transport_closed_) return;
    if (!started_) return fatal("bad_request", "audio before start", 1003);
    auto ms = measure_audio_frame(encoding_, sample_rate_, bytes, live_.max_frame_bytes);
    if (!ms) {
      const bool big = ms.error().code == ErrorCode::kPayloadTooLarge;
      return fatal(big ? "payload_too_large" : "bad_request", ms.error().message,
                   big ? 1009 : 1007);
    }
    const SteadyTime at = now_();
    if (!rate_->admit(*ms, at)) {
      return fatal("rate_limited", "audio is arriving faster than the allowed real-time factor",
                   1008);
    }
    const double backlog = backlog_ms_.load() + *ms;
    if (backlog > static_cast<double>(live_.max_backlog.count())) {
      return fatal("unavailable", "the server cannot keep up with this stream", 1013);
    }
    add_backlog(*ms);
    ++audio_queued_;
    gauges_.audio.inc();
    std::vector<uint8_t> copy(bytes.begin(), bytes.end());
    asio::post(strand_, [self = shared_from_this(), copy = std::move(copy), ms = *ms, at] {
      self->handle_audio(copy, ms, at);
    });
  }

  void on_disconnect() {
    transport_closed_ = true;
    {
      std::lock_guard lock(sink_mu_);
      sink_closed_ = true;
      if (!session_id_.empty() && resumable_) resume_.mark_draining(session_id_);
    }
    asio::post(strand_, [self = shared_from_this()] { self->handle_disconnect(); });
  }

  void on_shutdown() {
    transport_closed_ = true;
    asio::post(strand_, [self = shared_from_this()] {
      self->close_utterance(EndReason::kShutdown, self->now_());
      self->begin_close("shutting_down", "the server is stopping", 1001);
    });
  }

  void on_partials_dropped(std::size_t count) {
    asio::post(strand_, [self = shared_from_this(), count] {
      if (self->recognition_) self->recognition_->count_dropped(static_cast<int>(count));
      self->note_busy("slow_client");
    });
  }

  bool finished() const { return finished_.load(); }

  // The transport forgot the session: never call its sink again.
  void detach_sink() {
    std::lock_guard lock(sink_mu_);
    sink_closed_ = true;
  }

 private:
  enum class Phase { kAwaitingStart, kStreaming, kClosing, kClosed };

  // ---- strand side ----

  // Sends the event `make(seq)` builds, unless the connection is gone; true
  // when it was sent. Both strands send (thoughts come from the mind
  // strand), so the seq is taken and the sink called under one lock.
  template <typename Make>
  bool emit(Make&& make, bool droppable = false, int close_code = 0) {
    std::lock_guard lock(sink_mu_);
    if (sink_closed_) return false;
    std::string json = make(seq_ + 1);
    if (!json.empty()) ++seq_;
    sink_(Event{std::move(json), droppable, close_code});
    if (close_code != 0) sink_closed_ = true;
    return true;
  }

  void fatal(std::string code, std::string message, int close_code) {
    transport_closed_ = true;
    aborted_ = true;
    asio::post(strand_, [self = shared_from_this(), code = std::move(code),
                         message = std::move(message), close_code] {
      if (self->phase_ == Phase::kClosed) return;
      self->emit([&](int64_t q) { return error_event(q, code, message); }, false, close_code);
      // The stream is cut, but what was said so far is kept and resumable.
      self->handle_disconnect();
    });
  }

  void add_backlog(double ms) {
    double cur = backlog_ms_.load();
    while (!backlog_ms_.compare_exchange_weak(cur, cur + ms)) {
    }
  }

  void handle_start(const StartMessage& m, int attempt) {
    if (phase_ != Phase::kAwaitingStart) return;
    OpenOutcome opened = open_or_resume(m, *conversations_, resume_, attempt >= kMaxDrainRetries);
    if (opened.retry) {
      return retry_later(
          [self = shared_from_this(), m, attempt] { self->handle_start(m, attempt + 1); });
    }
    if (!opened.session) {
      return fail_now(opened.error.code, opened.error.message, opened.error.close_code);
    }
    OpenedSession& session = *opened.session;
    handle_ = session.handle;

    auto input = AudioInput::create(m.encoding, m.sample_rate);
    if (!input) return fail_now("bad_request", input.error().message, 1003);
    input_.emplace(std::move(input).value());
    auto seg = UtteranceSegmenter::create(segmenter_params(live_, preroll_));
    if (!seg) return fail_now("internal_error", seg.error().message, 1011);
    segmenter_.emplace(std::move(seg).value());

    // Replay what the client missed, then number new utterances after the
    // stored ones.
    const ReplayPlan& plan = session.replay;
    const int64_t stored = plan.last_stored_utterance;
    RecognitionParams rp;
    rp.partial_interval_samples = live_.partial_interval.count() * 16;
    rp.language = m.language.empty() ? language_ : m.language;
    rp.now = now_;
    recognition_.emplace(recognizer_, rp, stored + 1);

    {
      std::lock_guard lock(sink_mu_);
      session_id_ = handle_->id;
      resumable_ = true;
    }
    SessionInfo info{handle_->id,          session.token,
                     session.resumed,      static_cast<int64_t>(plan.items.size()),
                     recognizer_->name(),  conversations_->engine().name(),
                     live_.max_frame_bytes};
    emit([&](int64_t q) { return session_event(q, info); });
    for (const ReplayItem& item : plan.items) {
      if (const auto* u = std::get_if<store::UtteranceRecord>(&item)) {
        emit([&](int64_t q) { return final_event(q, *u); });
      } else {
        emit([&](int64_t q) { return thoughts_event(q, std::get<store::ThoughtsRecord>(item)); });
      }
    }
    last_final_ = session.last_final;
    last_thoughts_ = session.last_thoughts;
    phase_ = Phase::kStreaming;
    log::info("live stream started", {{"session_id", handle_->id},
                                      {"resumed", session.resumed},
                                      {"replayed", plan.items.size()}});
  }

  void fail_now(std::string code, std::string message, int close_code) {
    emit([&](int64_t q) { return error_event(q, code, message); }, false, close_code);
    phase_ = Phase::kClosed;
    finished_ = true;
  }

  // Runs `f` on the strand after a short delay (a decoder or a dropped
  // session's flush may be free by then). Each wait has its own timer, so
  // one retry never cancels another.
  template <typename F>
  void retry_later(F f) {
    auto timer = std::make_shared<asio::steady_timer>(strand_, kRetryDelay);
    timer->async_wait([timer, f = std::move(f)](const boost::system::error_code& ec) {
      if (!ec) f();
    });
  }

  void handle_audio(const std::vector<uint8_t>& bytes, double ms, SteadyTime at) {
    struct Done {
      Pipeline* p;
      double ms;
      ~Done() {
        p->add_backlog(-ms);
        --p->audio_queued_;
        p->gauges_.audio.dec();
      }
    } done{this, ms};
    if (aborted_ || phase_ != Phase::kStreaming) return;
    // Per frame, not a member: an idle stream should hold no audio.
    std::vector<float> samples;
    if (auto s = input_->decode(bytes, samples); !s) {
      aborted_ = true;
      emit([&](int64_t q) { return error_event(q, "bad_request", s.error().message); }, false,
           1007);
      return handle_disconnect();
    }
    run_segments(segmenter_->process(samples), at, ms);
  }

  // `current_ms`: the audio of the frames at hand, still counted in the
  // backlog until they are done.
  void run_segments(std::vector<SegmentFrame> frames, SteadyTime at, double current_ms) {
    const double backlog =
        backlog_ms_.load() + static_cast<double>(recognition_->buffered_samples()) / 16.0;
    const bool behind = backlog > kBehindMs;
    if (busy_ && backlog < kCaughtUpMs) busy_ = false;
    RecognitionOutput out;
    for (SegmentFrame& f : frames) recognition_->on_frame(std::move(f), at, out);
    using Backlog = RecognitionStage::Backlog;
    Backlog now = Backlog::kNone;
    if (behind) {
      now = Backlog::kBehind;
    } else if (backlog_ms_.load() > current_ms) {
      now = Backlog::kNewerQueued;  // audio that arrived while these frames were recognised
    }
    recognition_->flush_partial(now, out);
    segmenter_->set_latest_text(recognition_->latest_text());
    deliver(out);
  }

  // After anything that may have queued or started an utterance.
  void update_recognition_depth() {
    const std::size_t now = recognition_ ? recognition_->waiting_for_decoder() : 0;
    gauges_.recognition.inc(static_cast<double>(now) - static_cast<double>(recognition_waiting_));
    recognition_waiting_ = now;
  }

  void deliver(RecognitionOutput& out) {
    update_recognition_depth();
    for (const Error& e : out.errors) {
      log::warn("live recognition error", {{"session_id", handle_->id}, {"error", e.message}});
    }
    for (const PartialText& p : out.partials)
      emit([&](int64_t q) { return partial_event(q, p); }, true);
    if (out.partials_skipped > 0) note_busy("behind");
    for (FinalText& f : out.finals) deliver_final(std::move(f));
    // Every decoder is taken: no partials until one frees up.
    if (out.retry_later) note_busy("recognizer_busy");
    if (out.retry_later && !retry_pending_) {
      retry_pending_ = true;
      retry_later([self = shared_from_this()] {
        self->retry_pending_ = false;
        if (!self->recognition_) return;
        RecognitionOutput o;
        self->recognition_->pump(o);
        self->deliver(o);
        self->maybe_finish();
      });
    }
  }

  void note_busy(const char* reason) {
    if (busy_ || phase_ != Phase::kStreaming) return;
    busy_ = true;
    const auto retry = static_cast<int64_t>(std::max(backlog_ms_.load(), 250.0));
    emit([&](int64_t q) { return busy_event(q, retry, reason); });
  }

  void deliver_final(FinalText f) {
    // Counted before the final goes out: whoever sees it sees its thoughts queued.
    ++pending_mind_;
    gauges_.thoughts.inc();
    if (emit([&](int64_t q) { return final_event(q, f); })) last_final_ = f.utterance_id;
    UtteranceTiming timing{samples_to_ms(f.start_sample), samples_to_ms(f.end_sample),
                           f.final_decode_ms};
    const bool end_turn = f.reason == EndReason::kEndOfTurn;
    asio::post(mind_strand_, [self = shared_from_this(), f = std::move(f), timing, end_turn] {
      auto turn = self->conversations_->hear(self->handle_, f.text, 1, timing);
      if (end_turn) (void)self->conversations_->end_turn(self->handle_);
      // Sent from here rather than from the compute strand, where they would
      // wait behind any audio the session is still catching up on.
      self->deliver_thoughts(f, std::move(turn));
      asio::post(self->strand_, [self] {
        --self->pending_mind_;
        self->gauges_.thoughts.dec();
        self->maybe_finish();
      });
    });
  }

  // On the mind strand: the thoughts and stats of one final, in order.
  void deliver_thoughts(const FinalText& f, Result<Turn> turn) {
    const double to_thoughts = ms_between(f.emitted_at, now_());
    if (!turn) {
      log::error("live utterance could not be heard",
                 {{"session_id", handle_->id}, {"error", turn.error().message}});
      emit([&](int64_t q) {
        return error_event(q, error_code_name(turn.error().code), turn.error().message);
      });
    } else {
      if (turn->utterance_seq != f.utterance_id) {
        log::warn("live utterance stored under another number",
                  {{"utterance_id", f.utterance_id}, {"stored_seq", turn->utterance_seq}});
      }
      if (turn->thoughts) {
        if (emit([&](int64_t q) { return thoughts_event(q, f.utterance_id, *turn->thoughts); })) {
          last_thoughts_ = f.utterance_id;
        }
      }
    }
    emit([&](int64_t q) { return stats_event(q, f, to_thoughts); });
    auto& m = metrics::service();
    m.stream_final_latency.with({}).observe(f.speech_end_to_final_ms / 1000.0);
    if (f.partials_dropped > 0) {
      m.stream_partials_dropped.with({}).inc(static_cast<double>(f.partials_dropped));
    }
  }

  // Flushes the input and ends the open utterance (end_of_turn, stop,
  // shutdown, disconnect).
  void close_utterance(EndReason reason, SteadyTime at) {
    if (phase_ != Phase::kStreaming) return;
    std::vector<SegmentFrame> frames;
    if (reason != EndReason::kEndOfTurn) {
      std::vector<float> samples;
      (void)input_->flush(samples);
      frames = segmenter_->process(samples);
    }
    auto tail = segmenter_->close(reason);
    for (auto& f : tail) frames.push_back(std::move(f));
    run_segments(std::move(frames), at, 0);
  }

  // Stop or shutdown: the remaining events, then the closing one.
  void begin_close(std::string code, std::string message, int close_code) {
    if (phase_ == Phase::kAwaitingStart) {
      phase_ = Phase::kStreaming;  // nothing to flush
    }
    if (phase_ != Phase::kStreaming) return;
    phase_ = Phase::kClosing;
    close_ = PendingClose{std::move(code), std::move(message), close_code};
    maybe_finish();
  }

  void maybe_finish() {
    if (pending_mind_ > 0 || (recognition_ && recognition_->pending() > 0)) return;
    if (phase_ == Phase::kClosing && close_) {
      if (close_->code.empty()) {
        emit([](int64_t) { return std::string(); }, false, close_->close_code);
      } else {
        emit([&](int64_t q) { return error_event(q, close_->code, close_->message); }, false,
             close_->close_code);
      }
      if (handle_) resume_.remove(handle_->id);
      phase_ = Phase::kClosed;
      finished_ = true;
    }
  }

  // The connection is gone (or cut): store the open utterance without
  // sending anything, then leave the session resumable.
  void handle_disconnect() {
    if (phase_ == Phase::kClosed) return;             // closed before, or already flushing
    if (handle_) resume_.mark_draining(handle_->id);  // a fast reconnect waits for the flush
    const bool streaming = phase_ == Phase::kStreaming;
    if (streaming) close_utterance(EndReason::kDisconnect, now_());
    phase_ = Phase::kClosed;
    if (!handle_) {
      finished_ = true;
      return;
    }
    // Runs after every hear() this session queued (the mind strand is FIFO).
    // Waits for a decoder first if an utterance is still queued for one.
    drain_after_recognition();
  }

  void drain_after_recognition() {
    if (recognition_ && recognition_->pending() > 0) {
      RecognitionOutput o;
      recognition_->pump(o);
      update_recognition_depth();
      for (FinalText& f : o.finals) deliver_final(std::move(f));
      if (recognition_->pending() > 0) {
        return retry_later([self = shared_from_this()] { self->drain_after_recognition(); });
      }
    }
    asio::post(mind_strand_, [self = shared_from_this()] {
      asio::post(self->strand_, [self] {
        // What the client was sent: the default for a resume that does not say.
        ResumeRegistry::Progress p{self->last_final_, self->last_thoughts_};
        self->resume_.mark_detached(self->handle_->id, self->live_.resume_grace, p);
        self->finished_ = true;
      });
    });
  }

  struct PendingClose {
    std::string code;
    std::string message;
    int close_code = 0;
  };
  using Registry = Conversations::Registry;

  std::shared_ptr<asr::Recognizer> recognizer_;
  std::shared_ptr<Conversations> conversations_;
  Strand strand_;
  Strand mind_strand_;
  config::LiveConfig live_;
  std::string language_;
  ResumeRegistry& resume_;
  std::function<SteadyTime()> now_;
  std::chrono::milliseconds preroll_;
  std::chrono::milliseconds rate_burst_;

  // Transport side.
  bool started_ = false;
  std::atomic<bool> transport_closed_{false};  // on_shutdown() may come from elsewhere
  AudioEncoding encoding_ = AudioEncoding::kPcm16;
  int sample_rate_ = 16000;
  std::optional<RealtimeRateGuard> rate_;

  // Shared.
  std::mutex sink_mu_;
  EventSink sink_;
  bool sink_closed_ = false;
  std::string session_id_;  // guarded by sink_mu_
  bool resumable_ = false;  // guarded by sink_mu_
  std::atomic<double> backlog_ms_{0};
  std::atomic<bool> aborted_{false};
  std::atomic<bool> finished_{false};

  // Strand side.
  Phase phase_ = Phase::kAwaitingStart;
  int64_t seq_ = 0;
  Registry::Handle handle_;
  std::optional<AudioInput> input_;
  std::optional<UtteranceSegmenter> segmenter_;
  std::optional<RecognitionStage> recognition_;
  int64_t last_final_ = 0;
  std::atomic<int64_t> last_thoughts_{0};  // written on the mind strand
  int pending_mind_ = 0;
  bool busy_ = false;
  bool retry_pending_ = false;
  std::optional<PendingClose> close_;

  // Queue depths this session added to the gauges (see QueueGauges).
  QueueGauges gauges_;
  std::atomic<int64_t> audio_queued_{0};  // transport side adds, strand side takes
  std::size_t recognition_waiting_ = 0;
};

class LiveStreamSession final : public StreamSession {
 public:
  explicit LiveStreamSession(std::shared_ptr<Pipeline> p) : p_(std::move(p)) {}
  ~LiveStreamSession() override { p_->detach_sink(); }

  void on_text(std::string_view text) override { p_->on_text(text); }
  void on_audio(std::span<const uint8_t> bytes) override { p_->on_audio(bytes); }
  void on_disconnect() override { p_->on_disconnect(); }
  void on_shutdown() override { p_->on_shutdown(); }
  void on_partials_dropped(std::size_t count) override { p_->on_partials_dropped(count); }
  bool finished() const override { return p_->finished(); }

 private:
  std::shared_ptr<Pipeline> p_;
};

}  // namespace

std::unique_ptr<StreamSession> make_live_pipeline(StreamDeps& deps, EventSink sink) {
  return std::make_unique<LiveStreamSession>(std::make_shared<Pipeline>(deps, std::move(sink)));
}

}  // namespace scribepod::live
