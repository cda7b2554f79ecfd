#!/usr/bin/env bash
# bench/mind_latency.sh [BUILD_DIR]: thoughts latency p50/p95 and throughput
# with 1, 4 and 16 concurrent conversations, for HeuristicThoughts and for
# LlmThoughts over LlamaGenerator (2 contexts) on the tiny random-weight llama
# model (bench/mind_latency.cpp). Builds what it needs in a Release build dir
# (default build/release, configured if absent). A benchmark, not a test:
# prints markdown tables. MIND_LATENCY_TURNS (20, heuristic),
# MIND_LATENCY_LLM_TURNS (2) and MIND_LATENCY_THREADS (1 per context) change
# the work.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
. bench/lib.sh
bench_release_build "$build" mind_latency make_tiny_gguf
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "# mind_latency: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo
"$build/bench/mind_latency" 2>"$log" | grep -v '^{' || { cat "$log" >&2; exit 1; }
