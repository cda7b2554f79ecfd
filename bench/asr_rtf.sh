#!/usr/bin/env bash
# bench/asr_rtf.sh [BUILD_DIR]: real-time factor and memory of the speech
# engines (bench/asr_rtf.cpp): PocketSphinx on the real recordings, and
# whisper.cpp with generated random-weight models of tiny and base shape on
# 2 threads (compute cost only). Builds what it needs in a Release build dir
# (default build/release, configured if absent). A benchmark, not a test:
# prints markdown tables. ASR_BENCH_RUNS (5), ASR_BENCH_WHISPER_RUNS (3) and
# ASR_BENCH_DECODERS (3) set the repetitions.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
. bench/lib.sh
bench_release_build "$build" asr_rtf make_tiny_whisper_model
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "# asr_rtf: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo
# The engine's own log lines (JSON) go to stdout too: keep only the tables.
"$build/bench/asr_rtf" 2>"$log" | grep -v '^{' || { cat "$log" >&2; exit 1; }
echo
echo "issue 3 reference (FACTS.md): PocketSphinx RTF ~0.2 on one core, ~95 MB per decoder;"
echo "whisper encoder alone, one 30 s window on 2 threads: tiny 0.35 s, base 0.76 s"
