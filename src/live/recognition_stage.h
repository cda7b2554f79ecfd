// RecognitionStage: incremental recognition of the segmenter's utterances.
//
// It opens a recogniser stream at each utterance's start and feeds audio as
// it arrives, so little work remains when the endpoint fires; it asks for a
// partial at most once per `partial_interval` of new audio, and finalizes
// each utterance exactly once. A due partial waits while newer audio is
// already queued behind the frame at hand (coalesced: the next frame's
// partial covers it, and no stale one goes out after a stall); when the
// session is far behind, due partials are skipped (counted as dropped,
// reported so the session can send `busy`). A SpeechPause lets the
// recogniser settle the words so far (RecognizerStream::settle()); the
// silence after it is held back and fed only if speech comes back
// (SpeechResume), so an endpoint that follows finds nothing left to search.
//
// Utterances are recognised strictly in order: when open_stream fails with
// kUnavailable (every decoder busy), the utterance and any that follow are
// buffered and retried (pump()), and no later final overtakes an earlier one;
// a final is never dropped. Utterance ids are given out in order, lazily, to
// utterances that produce text (a partial or a final), so noise that the VAD
// let through but the recogniser heard nothing in costs no id and no event.
// If the final pass returns nothing while a partial was shown, the final is
// the last partial: what the client saw is never silently withdrawn.
//
// Runs on the session's serial context; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "asr/recognizer.h"
#include "live/frames.h"

namespace scribepod::live {

struct RecognitionParams {
  int64_t partial_interval_samples = 4000;  // 250 ms
  std::string language;
  // Wall clock for the latency figures (tests may replace it).
  std::function<SteadyTime()> now = [] { return std::chrono::steady_clock::now(); };

  static RecognitionParams default_params() { return {}; }
};

struct RecognitionOutput {
  std::vector<PartialText> partials;
  std::vector<FinalText> finals;
  int partials_skipped = 0;   // partials due but skipped because the session is behind
  bool retry_later = false;   // no decoder was free: call pump() again soon
  std::vector<Error> errors;  // recogniser failures other than kUnavailable
};

class RecognitionStage {
 public:
  RecognitionStage(std::shared_ptr<asr::Recognizer> recognizer, RecognitionParams params,
                   int64_t first_utterance_id);

  // How far behind the session is when a frame is handled.
  enum class Backlog {
    kNone,         // nothing newer is waiting: a due partial goes out
    kNewerQueued,  // newer audio is queued: a due partial waits for it
    kBehind,       // far behind: due partials are skipped and counted
  };

  // One frame from the segmenter; `arrival` is when the audio that produced
  // it reached the server.
  void on_frame(SegmentFrame frame, SteadyTime arrival, RecognitionOutput& out);

  // After the frames of one chunk of audio: the open utterance's partial, if
  // one is due, judged by the backlog now (recognising the chunk may have
  // taken long enough for newer audio to arrive).
  void flush_partial(Backlog backlog, RecognitionOutput& out);

  // Retries utterances waiting for a decoder and finalizes ended ones.
  void pump(RecognitionOutput& out);

  // Partials the transport dropped, counted against the open utterance.
  void count_dropped(int count);

  // The latest partial text of the open utterance ("" when none).
  std::string latest_text() const;
  // Utterances not yet finalized.
  std::size_t pending() const { return queue_.size(); }
  // Utterances waiting for a decoder (every one was taken when they began).
  std::size_t waiting_for_decoder() const;
  // Audio buffered while waiting for a decoder (samples).
  int64_t buffered_samples() const;
  int64_t next_utterance_id() const { return next_id_; }

 private:
  struct Utterance {
    int64_t start_sample = 0;
    int64_t received = 0;  // samples of audio so far
    std::unique_ptr<asr::RecognizerStream> stream;
    std::vector<float> pending;  // audio not yet fed (no stream yet)
    // After a SpeechPause: the audio since, fed only if speech comes back
    // (SpeechResume), dropped at the end of the utterance.
    bool holding = false;
    std::vector<float> held;
    bool ended = false;
    SpeechEnd end;
    SteadyTime end_arrival{};
    int64_t id = 0;
    int revision = 0;
    std::string last_partial;
    int64_t since_partial = 0;
    int partials_sent = 0;
    int partials_dropped = 0;
  };

  void feed(Utterance& u, std::vector<float> samples, RecognitionOutput& out);
  bool ensure_stream(Utterance& u, RecognitionOutput& out);
  void finalize(Utterance& u, RecognitionOutput& out);

  std::shared_ptr<asr::Recognizer> recognizer_;
  RecognitionParams params_;
  int64_t next_id_;
  std::deque<Utterance> queue_;
  bool unavailable_ = false;  // the last open_stream found no free decoder
};

}  // namespace scribepod::live
