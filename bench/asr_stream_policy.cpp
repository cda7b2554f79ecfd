// asr_stream_policy: which end-of-utterance policy a PocketSphinx stream
// should use. Every candidate streams the real speech set (asr_bench_util.h)
// through one recogniser, in order, as a live session would: 100 ms frames,
// partial() every 250 ms, finalize() at the end. It prints, per candidate,
// the WER of the final texts per source and overall, the recogniser's CPU
// time per second of audio (partials included), and the finalize() latency,
// next to the batch (transcribe()) floor. A benchmark, not a test.
#include <cstdio>
#include <string>
#include <vector>

#include "asr/pocketsphinx/pocketsphinx_recognizer.h"
#include "asr/wer.h"
#include "asr_bench_util.h"

namespace scribepod::bench {
namespace {

struct Candidate {
  std::string name;
  asr::PocketSphinxParams params;
};

struct Row {
  asr::WordErrors all, cards, librivox, jfk, short_ones;
  double audio_s = 0;
  double cpu_s = 0;
  std::vector<double> finalize_ms;
};

void add(Row& row, const Utterance& u, const std::string& text) {
  const auto e = asr::word_errors(u.reference, text);
  row.all += e;
  if (u.source == "cards") row.cards += e;
  if (u.source == "librivox") row.librivox += e;
  if (u.source == "jfk") row.jfk += e;
  if (u.source == "goforward" || u.source == "tidigits") row.short_ones += e;
}

// One utterance through a stream: 100 ms frames, a partial every 250 ms.
std::string stream_once(asr::Recognizer& r, const audio::PcmAudio& pcm, Row& row) {
  auto stream = take(r.open_stream({}), "open_stream");
  const std::size_t frame = audio::kSampleRate / 10;
  const std::size_t partial_every = audio::kSampleRate / 4;
  std::size_t next_partial = partial_every;
  const double cpu0 = thread_cpu_s();
  for (std::size_t at = 0; at < pcm.samples.size(); at += frame) {
    const auto n = std::min(frame, pcm.samples.size() - at);
    require(stream->feed(std::span<const float>(pcm.samples).subspan(at, n)).ok(), "feed");
    if (at + n >= next_partial) {
      take(stream->partial(), "partial");
      next_partial += partial_every;
    }
  }
  const auto start = Clock::now();
  auto t = take(stream->finalize(), "finalize");
  row.finalize_ms.push_back(seconds_since(start) * 1000.0);
  row.cpu_s += thread_cpu_s() - cpu0;
  row.audio_s += pcm.duration_s();
  return t.text;
}

double pct(const asr::WordErrors& e) { return 100.0 * e.rate(); }

void print_row(const std::string& name, const Row& row) {
  const auto max_ms = row.finalize_ms.empty()
                          ? 0.0
                          : *std::max_element(row.finalize_ms.begin(), row.finalize_ms.end());
  std::printf("| %-48s | %5.1f | %5.1f | %5.1f | %5.1f | %5.1f | %5.3f | %6.0f | %6.0f |\n",
              name.c_str(), pct(row.short_ones), pct(row.cards), pct(row.librivox), pct(row.jfk),
              pct(row.all), row.cpu_s / std::max(row.audio_s, 1e-9), median(row.finalize_ms),
              max_ms);
}

asr::PocketSphinxParams with(double redecode_max_s, bool warm, int restart_ms, int second_ms = 0) {
  auto p = asr::pocketsphinx_default_params();
  p.decoders = 1;
  p.redecode_max_s = redecode_max_s;
  p.warm_cmn = warm;
  p.cmn_restart_ms = restart_ms;
  p.cmn_second_restart_ms = second_ms;
  return p;
}

// The default policy with the streams' end-of-utterance passes set: fwdflat
// until `fwdflat_max_ms` of speech (-1: always), bestpath after it.
asr::PocketSphinxParams with_passes(int fwdflat_max_ms, bool bestpath) {
  auto p = asr::pocketsphinx_default_params();
  p.decoders = 1;
  p.stream_fwdflat_max_ms = fwdflat_max_ms;
  p.stream_bestpath = bestpath;
  return p;
}

}  // namespace
}  // namespace scribepod::bench

int main() {
  using namespace scribepod;
  using namespace scribepod::bench;
  asr::samples::TempDir dir;
  const auto set = real_speech_set(dir);
  double total_s = 0;
  for (const auto& u : set) total_s += u.pcm.duration_s();

  const auto d = asr::pocketsphinx_default_params();
  // The rest of what was tried (restart at 0.5 s or 2 s, 1 s + 2 s, re-decode
  // up to 0.5-1.5 s with one restart, a running mean kept updated) is
  // recorded in pocketsphinx_recognizer.h.
  const std::vector<Candidate> candidates = {
      {"re-decode always (the old default)", with(1e9, true, 1000)},
      {"never re-decode, restart at 1 s", with(0, true, 1000)},
      {"never re-decode, restart at 3 s", with(0, true, 3000)},
      {"never re-decode, cold CMN, restart at 1 s + 3 s", with(0, false, 1000, 3000)},
      {"default: re-decode <= " + std::to_string(d.redecode_max_s).substr(0, 3) + " s, " +
           (d.warm_cmn ? "warm" : "cold") + ", restart " + std::to_string(d.cmn_restart_ms) +
           " + " + std::to_string(d.cmn_second_restart_ms) + " ms",
       with(d.redecode_max_s, d.warm_cmn, d.cmn_restart_ms, d.cmn_second_restart_ms)},
      // What the live search does when the endpoint fires (ps_end_utt):
      // fwdflat re-searches the whole utterance, bestpath walks its lattice.
      {"default policy, fwdflat always", with_passes(-1, true)},
      {"default policy, fwdflat never, bestpath yes", with_passes(0, true)},
      {"default policy, fwdflat never, bestpath no", with_passes(0, false)},
      {"default policy, fwdflat until 3 s, bestpath yes", with_passes(3000, true)},
  };
  std::printf("(default: fwdflat until %d ms of speech, then bestpath %s)\n",
              d.stream_fwdflat_max_ms, d.stream_bestpath ? "yes" : "no");

  std::printf(
      "PocketSphinx stream policies on the real set (%zu utterances, %.1f s), one "
      "recogniser streamed in order; 100 ms frames, partial every 250 ms\n\n",
      set.size(), total_s);
  std::printf("| %-48s | short | cards | libri | jfk   | all   | CPU/s | fin p50 | fin max |\n",
              "policy (WER %; CPU s per audio s; finalize ms)    ");
  std::printf("|%s|-------|-------|-------|-------|-------|-------|--------|--------|\n",
              std::string(50, '-').c_str());
  {
    auto r = take(asr::make_pocketsphinx_recognizer(with(0, false, 0)), "recogniser");
    Row row;
    for (const auto& u : set) {
      const double cpu0 = thread_cpu_s();
      const auto start = Clock::now();
      auto t = take(r->transcribe(u.pcm, {}), "transcribe");
      row.finalize_ms.push_back(seconds_since(start) * 1000.0);
      row.cpu_s += thread_cpu_s() - cpu0;
      row.audio_s += u.pcm.duration_s();
      add(row, u, t.text);
    }
    print_row("batch transcribe() (the floor; fin = decode)", row);
  }
  const char* only = std::getenv("ASR_POLICY_ONLY");  // run the candidates whose name has this
  const bool verbose = std::getenv("ASR_POLICY_VERBOSE") != nullptr;
  for (const auto& c : candidates) {
    if (only != nullptr && c.name.find(only) == std::string::npos) continue;
    auto r = take(asr::make_pocketsphinx_recognizer(c.params), "recogniser");
    Row row;
    for (const auto& u : set) {
      const auto text = stream_once(*r, u.pcm, row);
      if (verbose) std::printf("  %s/%s: %s\n", u.source.c_str(), u.id.c_str(), text.c_str());
      add(row, u, text);
    }
    print_row(c.name, row);
  }
  return 0;
}
