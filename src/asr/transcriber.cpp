#include "asr/transcriber.h"

#include <chrono>

#include "audio/vad.h"
#include "telemetry/service_metrics.h"

namespace scribepod::asr {
namespace {

void shift(Transcript& t, double offset_s) {
  for (auto& seg : t.segments) {
    seg.start_s += offset_s;
    seg.end_s += offset_s;
    for (auto& w : seg.words) {
      w.start_s += offset_s;
      w.end_s += offset_s;
    }
  }
}

void append(Transcript& into, Transcript&& part) {
  if (!part.text.empty()) {
    if (!into.text.empty()) into.text.push_back(' ');
    into.text += part.text;
  }
  for (auto& seg : part.segments) into.segments.push_back(std::move(seg));
  if (into.language.empty()) into.language = part.language;
  into.decode_ms += part.decode_ms;
}

}  // namespace

Transcriber::Transcriber(std::shared_ptr<Recognizer> recognizer, TranscriberOptions options)
    : recognizer_(std::move(recognizer)), options_(options) {}

Result<Transcript> Transcriber::transcribe_bytes(std::string_view bytes,
                                                 std::string_view content_type,
                                                 const TranscribeOptions& options) const {
  auto pcm = audio::decode_audio(bytes, content_type, options_.limits);
  if (!pcm) return std::move(pcm).take_error();
  return transcribe_pcm(*pcm, options);
}

Result<Transcript> Transcriber::transcribe_pcm(const audio::PcmAudio& audio,
                                               const TranscribeOptions& options,
                                               const TranscribeProgress& progress) const {
  const double total = audio.duration_s();
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&](Transcript t) {
    t.engine = recognizer_->name();
    t.audio_s = total;
    if (t.language.empty()) t.language = options.language;
    if (t.decode_ms == 0) {
      t.decode_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
    }
    metrics::observe_recognition(
        t.engine, total,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (progress) progress(total, total);
    return t;
  };

  std::vector<audio::SpeechRegion> regions;
  if (options_.vad_gate) {
    auto found = audio::speech_regions(audio);
    if (!found) return std::move(found).take_error();
    // No speech: nothing for the recogniser to invent words from.
    if (found->empty()) return finish(Transcript{});
    regions = std::move(found).value();
  }
  if (regions.empty() || total <= options_.split_above_s) {
    auto whole = recognizer_->transcribe(audio, options);
    if (!whole) return whole;
    return finish(std::move(whole).value());
  }

  Transcript merged;
  for (const auto& region : regions) {
    const auto first = static_cast<std::size_t>(region.start_s * audio::kSampleRate);
    const auto last =
        std::min(audio.samples.size(), static_cast<std::size_t>(region.end_s * audio::kSampleRate));
    if (last <= first) continue;
    audio::PcmAudio slice;
    slice.samples.assign(audio.samples.begin() + static_cast<std::ptrdiff_t>(first),
                         audio.samples.begin() + static_cast<std::ptrdiff_t>(last));
    auto part = recognizer_->transcribe(slice, options);
    if (!part) return part;
    shift(*part, static_cast<double>(first) / audio::kSampleRate);
    append(merged, std::move(part).value());
    if (progress) progress(region.end_s, total);
  }
  return finish(std::move(merged));
}

}  // namespace scribepod::asr
