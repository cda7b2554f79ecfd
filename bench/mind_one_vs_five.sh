#!/usr/bin/env bash
# bench/mind_one_vs_five.sh [BUILD_DIR]: the original's five sequential
# free-text generations per utterance against LlmThoughts' one
# schema-constrained generation, on the same generated random-weight llama
# model, 2 threads (bench/mind_one_vs_five.cpp). Builds what it needs in a
# Release build dir (default build/release, configured if absent). A
# benchmark, not a test: prints markdown tables. MIND_BENCH_RUNS (3),
# MIND_BENCH_FIELD_TOKENS (32) and MIND_BENCH_SHAPE
# ("--embd 2048 --layers 4 --heads 32 --head-kv 8 --ff 8192": about 15 minutes
# at 3 runs; a quarter of that width takes a few minutes)
# change the repetitions, the per-field budget and the model; MIND_BENCH_DEBUG=1
# (running the program itself) prints one debug line per generation: prompt,
# cached and forced tokens, decode calls.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
. bench/lib.sh
bench_release_build "$build" mind_one_vs_five make_tiny_gguf
export MIND_BENCH_THREADS=2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "# mind_one_vs_five: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo
# The engines' own log lines (JSON, e.g. LlmThoughts' repair warnings) and
# llama.cpp's chatter are left out: only the tables.
"$build/bench/mind_one_vs_five" 2>"$log" | grep -v '^{' || { cat "$log" >&2; exit 1; }
echo
echo "issue 4 target: (a)/(b) wall time >= 3x"
