// asr_stream_vs_original: recogniser work of the original page's pattern
// against ours, on one 25 s utterance of real speech (JFK, then two LibriVox
// sentences, then silence up to 25 s), with PocketSphinx:
//   (a) original: every second, the whole utterance so far re-transcribed;
//   (b) ours: one stream, 100 ms frames, partial() every 250 ms, finalize();
//   (c) floor: the same audio transcribed once.
// Work is audio-seconds handed to the recogniser and this thread's CPU time
// (every call runs on the calling thread); medians of ASR_BENCH_RUNS runs
// (default 3; the original pattern ASR_BENCH_ORIGINAL_RUNS, default 1, as
// one run is ~13 passes; also the old-policy stream). Prints a markdown
// table. ASR_BENCH_DIAG=1 instead prints a stream's CPU time with 0, 1 and 2
// restarts of its cepstral mean. A benchmark, not a test.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "asr/pocketsphinx/pocketsphinx_recognizer.h"
#include "asr/wer.h"
#include "asr_bench_util.h"

namespace scribepod::bench {
namespace {

struct Run {
  double audio_s = 0;  // audio handed to the recogniser
  double cpu_s = 0;
  double wall_s = 0;
  double last_call_ms = 0;  // the last transcribe() or finalize(): the wait for the final text
  int partials = 0;
  std::string text;
};

audio::PcmAudio prefix(const audio::PcmAudio& pcm, std::size_t n) {
  audio::PcmAudio out;
  out.samples.assign(
      pcm.samples.begin(),
      pcm.samples.begin() + static_cast<std::ptrdiff_t>(std::min(n, pcm.samples.size())));
  return out;
}

Run original(asr::Recognizer& r, const audio::PcmAudio& pcm) {
  Run run;
  const double cpu0 = thread_cpu_s();
  const auto start = Clock::now();
  const std::size_t second = audio::kSampleRate;
  for (std::size_t end = second;; end += second) {
    const auto part = prefix(pcm, end);
    const auto call = Clock::now();
    run.text = take(r.transcribe(part, {}), "transcribe").text;
    run.last_call_ms = seconds_since(call) * 1000.0;
    run.audio_s += part.duration_s();
    if (end >= pcm.samples.size()) break;
  }
  run.wall_s = seconds_since(start);
  run.cpu_s = thread_cpu_s() - cpu0;
  return run;
}

Run ours(asr::Recognizer& r, const audio::PcmAudio& pcm) {
  Run run;
  const double cpu0 = thread_cpu_s();
  const auto start = Clock::now();
  auto stream = take(r.open_stream({}), "open_stream");
  const std::size_t frame = audio::kSampleRate / 10;
  const std::size_t partial_every = audio::kSampleRate / 4;
  std::size_t next_partial = partial_every;
  for (std::size_t at = 0; at < pcm.samples.size(); at += frame) {
    const auto n = std::min(frame, pcm.samples.size() - at);
    require(stream->feed(std::span<const float>(pcm.samples).subspan(at, n)).ok(), "feed");
    if (at + n >= next_partial) {
      take(stream->partial(), "partial");
      ++run.partials;
      next_partial += partial_every;
    }
  }
  const auto call = Clock::now();
  run.text = take(stream->finalize(), "finalize").text;
  run.last_call_ms = seconds_since(call) * 1000.0;
  run.wall_s = seconds_since(start);
  run.cpu_s = thread_cpu_s() - cpu0;
  run.audio_s = pcm.duration_s();
  return run;
}

Run once(asr::Recognizer& r, const audio::PcmAudio& pcm) {
  Run run;
  const double cpu0 = thread_cpu_s();
  const auto start = Clock::now();
  run.text = take(r.transcribe(pcm, {}), "transcribe").text;
  run.wall_s = seconds_since(start);
  run.last_call_ms = run.wall_s * 1000.0;
  run.cpu_s = thread_cpu_s() - cpu0;
  run.audio_s = pcm.duration_s();
  return run;
}

struct Summary {
  double audio_s, cpu_s, wall_s, last_ms, wer;
  int partials, runs;
};

template <typename F>
Summary measure(int runs, const std::string& reference, F f) {
  std::vector<double> cpu, wall, last;
  Run r;
  for (int i = 0; i < runs; ++i) {
    r = f();
    cpu.push_back(r.cpu_s);
    wall.push_back(r.wall_s);
    last.push_back(r.last_call_ms);
  }
  return {r.audio_s,
          median(cpu),
          median(wall),
          median(last),
          100.0 * asr::word_errors(reference, r.text).rate(),
          r.partials,
          runs};
}

void print(const std::string& name, const Summary& s) {
  std::printf("| %-52s | %4d | %7.1f | %7.2f | %7.2f | %8.0f | %8d | %5.1f |\n", name.c_str(),
              s.runs, s.audio_s, s.cpu_s, s.wall_s, s.last_ms, s.partials, s.wer);
}

}  // namespace
}  // namespace scribepod::bench

int main() {
  using namespace scribepod;
  using namespace scribepod::bench;
  namespace s = asr::samples;
  s::TempDir dir;
  const auto& data = s::kPocketSphinxData;
  const auto libri = s::transcriptions(data / "librivox/transcription");
  const std::string a = "sense_and_sensibility_01_austen_64kb-0870";
  const std::string b = "sense_and_sensibility_01_austen_64kb-0920";
  audio::PcmAudio pcm = s::jfk(dir);
  for (const auto& id : {a, b}) {
    const auto part = s::read_wav(data / "librivox" / (id + ".wav"));
    pcm.samples.insert(pcm.samples.end(), part.samples.begin(), part.samples.end());
  }
  require(pcm.samples.size() > 20 * audio::kSampleRate, "missing speech files");
  pcm.samples.resize(25 * audio::kSampleRate, 0.0F);
  const std::string reference = s::kJfkText + " " + libri.at(a) + " " + libri.at(b);

  const int runs = std::max(1, env_int("ASR_BENCH_RUNS", 3));
  const int original_runs = std::max(1, env_int("ASR_BENCH_ORIGINAL_RUNS", 1));
  auto params = asr::pocketsphinx_default_params();
  params.decoders = 1;
  auto r = take(asr::make_pocketsphinx_recognizer(params), "recogniser");
  auto old_params = params;
  old_params.redecode_max_s = 1e9;  // the previous default: finalize() re-decodes everything
  auto old = take(asr::make_pocketsphinx_recognizer(old_params), "recogniser");
  // Warm both: a live session's second utterance, not the process's first.
  take(r->transcribe(prefix(pcm, audio::kSampleRate), {}), "warm-up");
  take(old->transcribe(prefix(pcm, audio::kSampleRate), {}), "warm-up");

  if (std::getenv("ASR_BENCH_DIAG") != nullptr) {
    // Where a stream's CPU goes: the live search's restarts, one at a time.
    for (const auto& [first, second] :
         std::vector<std::pair<int, int>>{{0, 0}, {1000, 0}, {1000, 3000}}) {
      auto p = params;
      p.cmn_restart_ms = first;
      p.cmn_second_restart_ms = second;
      auto rr = take(asr::make_pocketsphinx_recognizer(p), "recogniser");
      const auto d = measure(1, reference, [&] { return ours(*rr, pcm); });
      std::printf("restarts %d + %d ms: CPU %.2f s, WER %.1f %%\n", first, second, d.cpu_s, d.wer);
    }
    const auto floor = measure(1, reference, [&] { return once(*r, pcm); });
    std::printf("floor: CPU %.2f s\n", floor.cpu_s);
    return 0;
  }
  const auto sa = measure(original_runs, reference, [&] { return original(*r, pcm); });
  const auto sb = measure(runs, reference, [&] { return ours(*r, pcm); });
  const auto sb_old = measure(original_runs, reference, [&] { return ours(*old, pcm); });
  const auto sc = measure(runs, reference, [&] { return once(*r, pcm); });

  std::printf(
      "PocketSphinx, one 25.0 s utterance (JFK + 2 LibriVox sentences + silence, %zu "
      "reference words); medians of runs; CPU = this thread's CPU time\n\n",
      asr::normalize_words(reference).size());
  std::printf("| %-52s | runs | audio s | CPU s   | wall s  | final ms | partials | WER %% |\n",
              "pattern");
  std::printf("|%s|------|---------|---------|---------|----------|----------|-------|\n",
              std::string(54, '-').c_str());
  print("(a) original: whole utterance re-sent every 1 s", sa);
  print("(b) ours: stream, 100 ms frames, partial/250 ms", sb);
  print("(b') stream with the old policy (re-decode at end)", sb_old);
  print("(c) floor: one batch pass", sc);
  std::printf(
      "\nrecogniser work, original / ours: %.1fx audio-seconds, %.1fx CPU time "
      "(old policy: %.1fx CPU); ours / floor: %.2fx CPU. Target: >= 10x.\n",
      sa.audio_s / sb.audio_s, sa.cpu_s / sb.cpu_s, sa.cpu_s / sb_old.cpu_s, sb.cpu_s / sc.cpu_s);
  return 0;
}
