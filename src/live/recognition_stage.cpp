#include "live/recognition_stage.h"

#include <chrono>
#include <type_traits>
#include <utility>

#include "telemetry/log.h"

namespace scribepod::live {

RecognitionStage::RecognitionStage(std::shared_ptr<asr::Recognizer> recognizer,
                                   RecognitionParams params, int64_t first_utterance_id)
    : recognizer_(std::move(recognizer)),
      params_(std::move(params)),
      next_id_(first_utterance_id) {}

void RecognitionStage::on_frame(SegmentFrame frame, SteadyTime arrival, RecognitionOutput& out) {
  std::visit(
      [&](auto&& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, SpeechStart>) {
          Utterance u;
          u.start_sample = f.start_sample;
          queue_.push_back(std::move(u));
          if (queue_.size() == 1) (void)ensure_stream(queue_.back(), out);
        } else if constexpr (std::is_same_v<T, AudioFrame>) {
          if (queue_.empty() || queue_.back().ended) return;  // no open utterance
          Utterance& u = queue_.back();
          if (u.holding) {
            u.held.insert(u.held.end(), f.samples.begin(), f.samples.end());
            return;
          }
          feed(u, std::move(f.samples), out);
        } else if constexpr (std::is_same_v<T, SpeechPause>) {
          if (queue_.empty() || queue_.back().ended || !queue_.back().stream) return;
          Utterance& u = queue_.back();
          if (auto s = u.stream->settle(); !s) out.errors.push_back(s.error());
          // The silence that follows is searched only if speech comes back.
          u.holding = true;
        } else if constexpr (std::is_same_v<T, SpeechResume>) {
          if (queue_.empty() || queue_.back().ended || !queue_.back().holding) return;
          Utterance& u = queue_.back();
          u.holding = false;
          feed(u, std::exchange(u.held, {}), out);
        } else {
          if (queue_.empty() || queue_.back().ended) return;
          // Silence since a pause, and no speech after it: nothing to
          // recognise, and the final need not wait for it to be searched.
          queue_.back().holding = false;
          std::vector<float>().swap(queue_.back().held);
          queue_.back().ended = true;
          queue_.back().end = f;
          queue_.back().end_arrival = arrival;
          pump(out);
        }
      },
      std::move(frame));
}

void RecognitionStage::pump(RecognitionOutput& out) {
  while (!queue_.empty()) {
    Utterance& head = queue_.front();
    if (!ensure_stream(head, out)) return;
    if (!head.ended) return;
    finalize(head, out);
    queue_.pop_front();
  }
}

bool RecognitionStage::ensure_stream(Utterance& u, RecognitionOutput& out) {
  if (u.stream) return true;
  asr::TranscribeOptions options;
  options.language = params_.language;
  // Never wait here: this runs on the compute pool, whose threads the
  // streams holding the decoders need in order to finish and give them back.
  options.max_wait = std::chrono::milliseconds(0);
  auto stream = recognizer_->open_stream(options);
  if (!stream) {
    if (stream.error().code == ErrorCode::kUnavailable) {
      unavailable_ = true;
      out.retry_later = true;
      return false;
    }
    // Not retryable: the utterance is finalised from whatever was shown.
    out.errors.push_back(stream.error());
    u.pending.clear();
    return u.ended;
  }
  unavailable_ = false;
  u.stream = std::move(stream).value();
  if (!u.pending.empty()) {
    auto pending = std::move(u.pending);
    u.pending.clear();
    if (auto s = u.stream->feed(pending); !s) out.errors.push_back(s.error());
  }
  return true;
}

void RecognitionStage::feed(Utterance& u, std::vector<float> samples, RecognitionOutput& out) {
  const auto n = static_cast<int64_t>(samples.size());
  u.received += n;
  const bool is_head = &u == &queue_.front();
  if (!u.stream && is_head && !unavailable_) (void)ensure_stream(u, out);
  if (!u.stream) {
    u.pending.insert(u.pending.end(), samples.begin(), samples.end());
    return;
  }
  if (auto s = u.stream->feed(samples); !s) {
    out.errors.push_back(s.error());
    return;
  }
  u.since_partial += n;
}

void RecognitionStage::flush_partial(Backlog backlog, RecognitionOutput& out) {
  if (queue_.empty()) return;
  Utterance& u = queue_.back();
  if (u.ended || !u.stream || u.since_partial < params_.partial_interval_samples) return;
  if (backlog == Backlog::kNewerQueued) return;  // still due, for the newer audio
  u.since_partial = 0;
  if (backlog == Backlog::kBehind) {
    // Coalesced: the next partial covers this audio too.
    ++u.partials_dropped;
    ++out.partials_skipped;
    return;
  }
  auto text = u.stream->partial();
  if (!text || text->empty() || *text == u.last_partial) return;
  if (u.id == 0) u.id = next_id_++;
  u.last_partial = *text;
  ++u.revision;
  ++u.partials_sent;
  out.partials.push_back(
      PartialText{u.id, u.revision, *text, u.start_sample, u.start_sample + u.received});
}

void RecognitionStage::finalize(Utterance& u, RecognitionOutput& out) {
  FinalText f;
  f.start_sample = u.start_sample;
  f.end_sample =
      u.end.speech_end_sample > u.start_sample ? u.end.speech_end_sample : u.end.end_sample;
  f.reason = u.end.reason;
  f.endpoint_wait_ms = u.end.endpoint_wait_ms;
  if (u.stream) {
    const auto t0 = std::chrono::steady_clock::now();
    auto transcript = u.stream->finalize();
    f.final_decode_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (transcript) {
      f.text = transcript->text;
    } else {
      out.errors.push_back(transcript.error());
    }
    u.stream.reset();  // gives the decoder back at once
  }
  if (f.text.empty()) f.text = u.last_partial;
  if (f.text.empty()) return;  // heard nothing: no utterance at all
  if (u.id == 0) u.id = next_id_++;
  f.utterance_id = u.id;
  f.partials_sent = u.partials_sent;
  f.partials_dropped = u.partials_dropped;
  // Speech end to final, as if the audio arrived in real time: the
  // endpointing wait (audio time) plus the wall time from the arrival of the
  // audio that completed the wait to now.
  const auto now = params_.now();
  f.speech_end_to_final_ms =
      f.endpoint_wait_ms + std::chrono::duration<double, std::milli>(now - u.end_arrival).count();
  f.emitted_at = now;

  out.finals.push_back(std::move(f));
}

void RecognitionStage::count_dropped(int count) {
  if (!queue_.empty()) queue_.back().partials_dropped += count;
}

std::string RecognitionStage::latest_text() const {
  if (queue_.empty() || queue_.back().ended) return {};
  return queue_.back().last_partial;
}

std::size_t RecognitionStage::waiting_for_decoder() const {
  std::size_t n = 0;
  for (const Utterance& u : queue_) n += u.stream ? 0U : 1U;
  return n;
}

int64_t RecognitionStage::buffered_samples() const {
  int64_t n = 0;
  for (const Utterance& u : queue_) n += static_cast<int64_t>(u.pending.size());
  return n;
}

}  // namespace scribepod::live
