#!/usr/bin/env bash
# bench/live_capacity.sh [BUILD_DIR]: how many concurrent idle streams the
# gateway holds. For K = 250, 500, 1000 (BENCH_STREAMS overrides), a fresh
# `scribepod serve` (PocketSphinx, heuristic mind, SQLite history) and
# bench/live_capacity opening K streams on GET /v1/stream that each send
# `start`, then 100 ms of digital silence every second. The recogniser is the
# real one, but idle streams never reach it: the voice activity gate keeps
# silence out, so this measures the gateway (sockets, WebSocket and session
# state, the VAD on the silence). Reports the server's RSS before and after,
# per stream, and its CPU over 10 s. Builds in a Release build dir (default
# build/release, configured if absent). A benchmark, not a test (about a
# minute and a half); run it under `nice` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
. bench/lib.sh
bench_release_build "$build" scribepod live_capacity
bin=$build/src/cli/scribepod
client=$build/bench/live_capacity
counts=${BENCH_STREAMS:-250 500 1000}
# Each stream is one socket in the client and one in the server.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

out=$work/out
: >"$out"
# run_case K MODE: a fresh server, K streams of MODE (session: start + silence;
# upgrade-only: the WebSocket upgrade and a ping each second, no session).
run_case() {
  local k=$1 mode=$2 dir=$work/server$1$2
  mkdir -p "$dir"
  (cd "$dir" && exec "$OLDPWD/$bin" serve --port 0 --set server.threads=2 \
      --set asr.engine=pocketsphinx --set mind.engine=heuristic --set rate_limit.enabled=false \
      --set live.max_streams=4000 --set server.max_connections=8000 \
      --set live.idle_timeout=600s --set log.access_log=false >"$dir/log" 2>&1) &
  local pid=$! port=""
  for _ in $(seq 200); do
    port=$(grep -o '"message":"listening".*"port":[0-9]*' "$dir/log" 2>/dev/null | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$dir/log" >&2; exit 1; }
  sleep 1  # let start-up settle before the baseline RSS
  "$client" "$port" "$pid" "$k" 10 "$mode" | sed "s/^CAPACITY|/CAPACITY|$mode|/" >>"$out"
  kill -TERM "$pid"; wait "$pid" || true
}
for k in $counts; do run_case "$k" session; done
largest=$(echo $counts | tr ' ' '\n' | sort -n | tail -1)
run_case "$largest" upgrade-only

echo "# live_capacity: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end," \
  "open files limit $(ulimit -n)"
echo
echo "Idle streams (start, then 100 ms of silence each second) held by one server with --threads 2."
echo "RSS: VmRSS of the server before the first connection and 3 s after the last session event;"
echo "per stream = the difference / streams held. CPU: the server's utime + stime over 10 s while it"
echo "holds them (100 % = one core). Silence never reaches the recogniser (VAD gate). The upgrade-only"
echo "row holds WebSocket connections without a session (a ping each second): the transport's share."
echo
echo "| streams | asked | held | failed | ramp s | RSS before MiB | RSS after MiB | KiB per stream | server CPU % | CPU % per stream | first error |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
awk -F'|' '$1 == "CAPACITY" {printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12}' "$out"
echo
echo "Targets: >= 1000 streams held, <= 64 KiB per idle stream."
