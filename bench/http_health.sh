#!/usr/bin/env bash
# bench/http_health.sh [BUILD_DIR]: requests per second and latency of
# GET /health with wrk (2 threads, 64 connections, 10 s) against the release
# binary on loopback, with the access log on (the target configuration) and,
# as the in-script baseline, off. The server's log goes to a file, as in
# production. A benchmark, not a test: it prints a table and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
bin=$build/src/cli/scribepod
[ -x "$bin" ] || { echo "build the release binary first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: scripts/bootstrap --test" >&2; exit 2; }
duration=${BENCH_DURATION:-10s}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

run_case() {
  local name=$1 access=$2
  (cd "$work" && exec "$OLDPWD/$bin" serve --port 0 --threads 2 --set log.access_log="$access" \
      --set rate_limit.enabled=false >"$work/$name.log" 2>&1) &
  local pid=$!
  local port=""
  for _ in $(seq 100); do
    port=$(grep -o '"message":"listening".*"port":[0-9]*' "$work/$name.log" 2>/dev/null | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$work/$name.log"; exit 1; }
  wrk -t2 -c64 -d"$duration" --latency "http://127.0.0.1:$port/health" >"$work/$name.wrk"
  kill -TERM "$pid"; wait "$pid" || true
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.wrk")
  p50=$(awk '$1 == "50%" {print $2}' "$work/$name.wrk")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$name.wrk")
  printf '%-26s %12s %10s %10s %10s\n' "$name" "$rps" "$p50" "$p99" "$(wc -l <"$work/$name.log")"
  echo "$rps" >"$work/$name.rps"
}

echo "GET /health, wrk -t2 -c64 -d$duration, $(nproc) cores, server --threads 2"
printf '%-26s %12s %10s %10s %10s\n' case req/s p50 p99 log_lines
run_case "access log off (baseline)" false
run_case "access log on (target)" true
awk -v a="$(cat "$work/access log on (target).rps")" -v b="$(cat "$work/access log off (baseline).rps")" \
  'BEGIN {printf "access log on / off throughput ratio: %.2f\n", a / b}'
echo "target: >= 20000 req/s with p99 < 10 ms (access log on); original Express gateway: 415 req/s, p99 245 ms"
