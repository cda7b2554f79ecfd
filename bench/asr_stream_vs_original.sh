#!/usr/bin/env bash
# bench/asr_stream_vs_original.sh [BUILD_DIR]: recogniser work of the
# original page's pattern (the whole utterance re-sent and re-transcribed
# every second) against ours (one PocketSphinx stream with partials) on a 25 s
# utterance of real speech, and the batch floor (bench/asr_stream_vs_original.cpp);
# then, with ASR_BENCH_POLICY=1, the stream end-of-utterance policies on the
# whole real set (bench/asr_stream_policy.cpp, a few more minutes). Builds in a
# Release build dir (default build/release, configured if absent). A
# benchmark, not a test: prints markdown tables. Target: ours >= 10x less work.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
. bench/lib.sh
bench_release_build "$build" asr_stream_vs_original asr_stream_policy
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "# asr_stream_vs_original: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo
"$build/bench/asr_stream_vs_original" 2>"$log" | grep -v '^{' || { cat "$log" >&2; exit 1; }
if [ "${ASR_BENCH_POLICY:-0}" = 1 ]; then
  echo
  "$build/bench/asr_stream_policy" 2>"$log" | grep -v '^{' || { cat "$log" >&2; exit 1; }
fi
