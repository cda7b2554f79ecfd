#!/usr/bin/env bash
# bench/soak.sh [BUILD_DIR]: a bounded mixed load on loopback against the real
# `scribepod serve` (PocketSphinx, heuristic mind, SQLite history, rate limits
# off) for SOAK_SECONDS (default 600): SOAK_STREAMS (default 2) WebSocket
# speakers on /v1/stream playing real speech (goforward, tidigits, the cards
# clips) at real-time pace, over and over, plus SOAK_WORKERS (default 2) REST
# clients each sending SOAK_RPS (default 2) requests per second, cycling
# POST /generate_thots, /transcribe and /conversation. bench/soak is the
# client. Reports requests/s and p50/p95/p99 per kind, the server's RSS after
# the warm-up (SOAK_WARMUP, default 60 s) and at the end (target: < 5 %
# growth), lost finals (target 0) and 5xx other than the deliberate 503 busy
# (target 0). Builds in a Release build dir (default build/release,
# configured if absent); SCRIBEPOD_BIN and SOAK_CLIENT point at prebuilt
# binaries instead. A benchmark, not a test: run it under `nice` on a shared
# machine. Exits 1 when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
seconds=${SOAK_SECONDS:-600}
warmup=${SOAK_WARMUP:-60}
[ "$warmup" -lt "$seconds" ] || warmup=$((seconds / 4))
if [ -z "${SCRIBEPOD_BIN:-}" ] || [ -z "${SOAK_CLIENT:-}" ]; then
  . bench/lib.sh
  bench_release_build "$build" scribepod soak
fi
bin=$(realpath "${SCRIBEPOD_BIN:-$build/src/cli/scribepod}")
client=${SOAK_CLIENT:-$build/bench/soak}
. scripts/omp-env.sh
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

data=/usr/share/pocketsphinx/test/data
clips=("$data/goforward.raw" "$data/tidigits/dhd.2934z.raw" "$data"/cards/00[1-5].wav)
for c in "${clips[@]}"; do [ -f "$c" ] || { echo "missing $c (pocketsphinx-testdata)" >&2; exit 2; }; done

mkdir -p "$work/server"
(cd "$work/server" && exec "$bin" serve --port 0 --set server.threads=2 \
    --set asr.engine=pocketsphinx --set mind.engine=heuristic \
    --set rate_limit.enabled=false --set log.level=warn --set log.access_log=false \
    --set mind.prompts_dir="$OLDPWD/prompts" >"$work/server/log" 2>&1) &
pid=$!
port=""
for _ in $(seq 200); do
  port=$(grep -o '"message":"listening".*"port":[0-9]*' "$work/server/log" 2>/dev/null | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
if [ -z "$port" ]; then
  # log.level=warn hides the listening line: ask the kernel instead.
  for _ in $(seq 100); do
    port=$(ss -ltnpH 2>/dev/null | awk -v p="pid=$pid," '$0 ~ p {n = split($4, a, ":"); print a[n]; exit}')
    [ -n "$port" ] && break
    sleep 0.05
  done
fi
[ -n "$port" ] || { cat "$work/server/log" >&2; exit 1; }

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
(
  start=$(date +%s)
  while kill -0 "$pid" 2>/dev/null; do
    echo "$(($(date +%s) - start)) $(rss)" >>"$work/rss"
    sleep 5
  done
) &
sampler=$!

"$client" "$port" "$seconds" "${SOAK_STREAMS:-2}" "${SOAK_WORKERS:-2}" "${SOAK_RPS:-2}" \
  "${clips[@]}" >"$work/out" 2>"$work/client.err" || { cat "$work/client.err" >&2; exit 1; }
end_rss=$(rss)
kill "$sampler" 2>/dev/null || true
kill -TERM "$pid"
wait "$pid" || true
[ -z "${SOAK_RAW:-}" ] || cp "$work/out" "$SOAK_RAW"

warm_rss=$(awk -v w="$warmup" '$1 >= w {print $2; exit}' "$work/rss")
max_rss=$(awk 'BEGIN {m = 0} $2 > m {m = $2} END {print m}' "$work/rss")
echo "# soak: ${seconds} s on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;" \
  "${SOAK_STREAMS:-2} streams, ${SOAK_WORKERS:-2} REST workers at ${SOAK_RPS:-2} req/s each"
echo
echo "| kind | requests | req/s | 2xx | 503 busy | other 5xx | other | p50 ms | p95 ms | p99 ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
awk -F'|' -v s="$seconds" '$1 == "KIND" {printf "| %s | %s | %.2f | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $3 / s, $4, $5, $6, $7, $8, $9, $10}' "$work/out"
echo
echo "Live: stream sessions (each plays all clips once), finals, lost finals (utterance ids opened"
echo "without a final, plus clips no final covered on cleanly closed streams; 1013 = cut for overload, deliberate), abnormal closes (by close code; -1: none), end of speech → final (ms)."
echo
echo "| streams | sessions | finals | lost finals | clips without final | bad closes | open at a 1013 cut (kept for resume) | eos→final p50 | p95 | p99 |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
awk -F'|' '$1 == "LIVE" {printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $11, $8, $9, $10}' "$work/out"
echo
awk -v w="$warm_rss" -v e="$end_rss" -v m="$max_rss" -v t="$warmup" 'BEGIN {
  printf "RSS: %d KiB after %d s warm-up, %d KiB at the end, peak %d KiB: growth %.1f %% (target < 5 %%)\n", w, t, e, m, (e - w) * 100.0 / w }'
[ -s "$work/client.err" ] && { echo; echo "client errors:"; sort "$work/client.err" | uniq -c | head; }
awk -F'|' -v w="$warm_rss" -v e="$end_rss" '
  $1 == "KIND" {x += $6} $1 == "LIVE" {lost += $5 + $6}
  END {ok = (x == 0 && lost == 0 && (e - w) * 100.0 / w < 5);
       printf "\ntargets: other 5xx %d (0), lost finals %d (0): %s\n", x, lost, ok ? "met" : "MISSED"; exit !ok}' "$work/out"
