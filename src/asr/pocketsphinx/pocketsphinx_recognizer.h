// PocketSphinx recogniser: the embedded default engine. It needs no download
// beyond Debian's `pocketsphinx-en-us` package (US English only) and runs at
// about 0.2x real time on one core, at about 23 % WER on real speech.
//
// Each concurrent decode (a transcribe() call or an open stream) holds one
// PocketSphinx decoder (~115 MB; a decoder that has served a stream also
// holds a second handle for background work, as much again, see
// `background_search`) from a bounded pool filled on demand; when
// all are busy, a request waits up to `acquire_timeout` and then fails with
// kUnavailable. Streams search as audio arrives, so partial() is cheap, and
// finalize() returns the live search's result, so a stream costs about one
// pass over its audio and the final text is ready soon after the last frame
// (only very short utterances are re-decoded in batch, see redecode_max_s).
// The live search normalises features with a running cepstral mean that
// starts from a guess; restarting it from the speech's own mean after 1 s
// and 3 s keeps its WER near the batch decode's (see `warm_cmn`).
//
// Construction checks the model files and builds the first decoder, so a
// missing or broken model fails at start-up with a message naming the path.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "asr/recognizer.h"
#include "core/result.h"

namespace scribepod::asr {

struct PocketSphinxParams {
  // Holds en-us/ (acoustic model), en-us.lm.bin and cmudict-en-us.dict.
  std::string model_dir = "/usr/share/pocketsphinx/model/en-us";
  // Pool size = the most concurrent decodes; each decoder costs ~115 MB
  // (~230 MB once it has served a stream, with background_search).
  std::size_t decoders = 2;
  // How long a request waits for a busy pool before failing kUnavailable.
  std::chrono::milliseconds acquire_timeout{5000};
  // Search settings; the defaults are PocketSphinx's own. Turning off the
  // fwdflat and bestpath passes makes the end of an utterance ~10x cheaper
  // but raised WER from 23 % to 42 % on the test set with narrower beams
  // (FACTS.md). `fwdflat` and `bestpath` apply to transcribe() (and the
  // re-decode of short streamed utterances).
  double beam = 1e-48;
  double wbeam = 7e-29;
  double pbeam = 1e-48;
  bool fwdflat = true;
  bool bestpath = true;
  // Streams: the end-of-utterance passes run when the endpoint fires
  // (ps_end_utt): fwdflat re-searches the whole utterance, bestpath walks its
  // lattice. On a long utterance that made the final wait ~0.3-2.8 s after
  // the endpoint. A stream searches with both passes until
  // `stream_fwdflat_max_ms` of speech, then moves (with a CMN restart, which
  // re-searches the speech so far with the restart's mean anyway) to a fast
  // search without fwdflat (bestpath per `stream_bestpath`), so the end of a
  // long utterance costs little; -1: never (one search per decoder). Each
  // decoder then holds a second search over the same language model
  // (shared, not loaded twice): about 30 MB more per decoder. Measured with
  // bench/asr_stream_policy (13 real utterances, 50.6 s, one per clip;
  // finalize() p50 / max on a loaded 2-core machine) and live_session_test
  // (JFK cut into short utterances by its pauses):
  // - both passes always (before): 22.0 % WER, 342 / 2796 ms; JFK cut 26 %.
  // - fast from the start, bestpath on: 24.4 %, 79 / 702 ms (LibriVox 28 ->
  //   32 %); JFK cut 48 %: short utterances need fwdflat.
  // - fast from the start, bestpath off: 26.0 %, 22 / 141 ms (JFK whole
  //   27 -> 55 %).
  // - both passes until 3 s of speech, then fast with bestpath (the
  //   default): 23.6 % (LibriVox 28 -> 31 %), 103 / 600 ms; JFK cut 26 %.
  //   The rest of a long utterance's final is bestpath over its lattice.
  // `fwdflat` must stay on: without a two-pass search PocketSphinx keeps no
  // whole-utterance features, and a stream's restarts abort inside it.
  int stream_fwdflat_max_ms = 3000;
  bool stream_bestpath = true;
  // Streams: the live search (what partial() shows) normalises features
  // with a running cepstral mean that must start from a guess. The model's
  // generic guess suits quiet speakers, not loud ones. Measured on 22
  // utterances of the test set streamed in 100 ms chunks (WER of the live
  // search's own final text; the batch decode scores 16.7 % on the same set):
  // - model's guess: 28.2 %; JFK alone 86 %.
  // - `warm_cmn`, start from the mean of the last utterance a stream of this
  //   recogniser finalised (the same speaker and microphone, in a session):
  //   23.5 %; cards (one speaker) 43 -> 5 %, JFK (a new, louder one) 86 %.
  // - `cmn_restart_ms`, after that much speech restart the live search once
  //   from the speech's own mean and re-search it: 16.7 %, JFK 18 %, as batch
  //   (JFK's last partial, before the end-of-utterance passes: 91 -> 32 %).
  //   Restarting after 500 ms gave 21.4 % (JFK 41 %), blending the warm mean
  //   into the restart 22.2 %.
  // Passing -cmninit to PocketSphinx does nothing: the model's feat.params
  // overrides it. A restart re-searches the speech so far once (1 s, then
  // 3 s), whatever the utterance's length.
  bool warm_cmn = true;
  int cmn_restart_ms = 1000;
  // `cmn_second_restart_ms`: restart once more after that much speech (0:
  // never), so the final text comes from a mean over more speech.
  // finalize() returns the live search's result, except that an utterance
  // with at most `redecode_max_s` of speech (as the voice-activity detector
  // kept it) is re-decoded in one batch pass: it never reached a restart, and
  // re-decoding that little costs under ~100 ms. Re-decoding every utterance
  // made a stream cost ~2.5 batch passes and the end of a long utterance
  // wait seconds (bench/asr_stream_vs_original.sh). Measured with
  // bench/asr_stream_policy on 13 real utterances (50.6 s) streamed in
  // session order by one recogniser, 100 ms frames, a partial every 250 ms
  // (WER of the finals; cards / LibriVox / JFK / all):
  // - batch transcribe(), and re-decode always: 4.8 / 28.2 / 18.2 / 20.3 %.
  // - never re-decode, restart at 1 s: 19.0 / 31.0 / 18.2 / 24.4 %.
  // - restart at 0.5 s: 29.3 % all; at 2 s: 25.2 %; at 3 s: 22.8 %.
  // - restart at 1 s and 3 s (the default): 4.8 / 28.2 / 27.3 / 22.0 %;
  //   at 1 s and 2 s: 25.2 %.
  // - keeping the running mean updated after the restart: 26.0 %.
  // - warm or cold seed: the same finals (a restart replaces the seed); the
  //   seed matters for partials in the first second and for utterances
  //   shorter than a second, so warm_cmn stays on.
  int cmn_second_restart_ms = 3000;
  double redecode_max_s = 0.5;
  // Streams: a second PocketSphinx handle per decoder takes a stream's slow
  // steps off the stream's thread: finishing a segment settled at a pause
  // (RecognizerStream::settle(): fwdflat and bestpath over it, up to ~0.5 s
  // for 3 s of speech), and the re-search at a CMN restart or at the move
  // to the fast search (up to ~1 s). The stream goes on with one handle
  // while the other works, then they swap; with both busy, its audio waits
  // for the first one free. The stream's thread runs none of those steps,
  // but it does catch a finished restart up with the audio that came while
  // it ran: JFK at 1 stream (bench/live_load.sh, BENCH_ROWS=1), 25-74
  // frames, 36-460 ms, during which the stream's pause and endpoint wait.
  // Catching up in background rounds instead was tried and measured no
  // better (JFK's last utterance, final minus the endpoint wait: 494-861 ms
  // in 4 runs, against 198-594 ms in 6): JFK's live search alone costs
  // 1.4-5.7 ms per 10 ms frame here, so with a background search beside it
  // both cores are busy, and the stall only became slower feeds.
  // The second handle is built on a decoder's first stream, off the
  // stream's thread, and costs as much memory as the first (~115 MB).
  // false: those steps run on the stream's thread.
  bool background_search = true;
  // A pause of at least this long between words starts a new segment.
  double segment_gap_s = 0.6;
};

PocketSphinxParams pocketsphinx_default_params();

// Fails with kInvalidConfig when the model is missing or unreadable (the
// message names the path and how to install it) or the parameters are bad.
Result<std::unique_ptr<Recognizer>> make_pocketsphinx_recognizer(const PocketSphinxParams& params);

}  // namespace scribepod::asr
