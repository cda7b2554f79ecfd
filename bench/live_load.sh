#!/usr/bin/env bash
# bench/live_load.sh [BUILD_DIR]: latency of GET /v1/stream as a listener sees
# it, with bench/live_load streaming real speech (goforward, tidigits, the
# five cards clips, five LibriVox sentences and JFK when the whisper npm
# tarball is cached) at
# real-time pace in 100 ms PCM16 frames with 1.5 s silences between
# utterances, from 1, 2 and 4 simulated speakers over loopback, to the real
# `scribepod serve` (PocketSphinx, heuristic mind, SQLite history; one fresh
# server per row; 4 speakers twice: with the default 2 decoders and with
# asr.concurrency=4). Then, in the same run, the original design on the same
# audio at 1 stream: the whole utterance so far re-posted as a WAV to
# POST /conversation?chunk=N every second. Builds in a Release build dir
# (default build/release, configured if absent). A benchmark, not a test:
# prints markdown tables (about 6 minutes); BENCH_RAW=FILE keeps the
# client's raw lines (UTT: one per utterance). Run it under `nice` on a shared
# machine. BENCH_SET="key=value ..." passes settings to every server (to
# compare a setting against the default in two runs).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
. bench/lib.sh
bench_release_build "$build" scribepod live_load
bin=$build/src/cli/scribepod
client=$build/bench/live_load
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

data=/usr/share/pocketsphinx/test/data
clips=("$data/goforward.raw" "$data/tidigits/dhd.2934z.raw" "$data"/cards/00[1-5].wav
  "$data"/librivox/*.wav)
tarball=$(ls ~/.cache/scribepod/downloads/nodejs-whisper-*.tgz 2>/dev/null | head -1 || true)
if [ -n "$tarball" ] &&
  tar -xzf "$tarball" -C "$work" package/cpp/whisper.cpp/bindings/go/samples/jfk.wav 2>/dev/null; then
  clips+=("$work/package/cpp/whisper.cpp/bindings/go/samples/jfk.wav")
fi
for c in "${clips[@]}"; do [ -f "$c" ] || { echo "missing $c (pocketsphinx-testdata)" >&2; exit 2; }; done

# start_server NAME [--set k=v...]: a fresh server in its own directory;
# sets $pid and $port.
start_server() {
  local dir=$work/server$1
  shift
  mkdir -p "$dir"
  local extra=()
  for kv in ${BENCH_SET:-}; do extra+=(--set "$kv"); done
  (cd "$dir" && exec "$OLDPWD/$bin" serve --port 0 --set server.threads=2 "$@" "${extra[@]}" \
      --set asr.engine=pocketsphinx --set mind.engine=heuristic \
      --set rate_limit.enabled=false --set live.idle_timeout=600s >"$dir/log" 2>&1) &
  pid=$!
  port=""
  for _ in $(seq 200); do
    port=$(grep -o '"message":"listening".*"port":[0-9]*' "$dir/log" 2>/dev/null | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$dir/log" >&2; exit 1; }
}
stop_server() { kill -TERM "$pid"; wait "$pid" || true; }

out=$work/out
: >"$out"
# Rows: 1, 2, 4 speakers with the default asr.concurrency (2 decoders; a
# decoder is held from an utterance's start to its final), then 4 speakers
# with 4 decoders.
# BENCH_ROWS picks rows (e.g. BENCH_ROWS=1 for a quick look); BENCH_ORIGINAL=0
# skips the original design.
for n in ${BENCH_ROWS:-1 2 4 4d}; do
  if [ "$n" = 4d ]; then start_server "live$n" --set asr.concurrency=4; else start_server "live$n"; fi
  "$client" live "$port" "${n%d}" "${clips[@]}" | sed "s/^\([A-Z]*\)|${n%d}|/\1|$n|/" >>"$out"
  stop_server
done
[ -z "${BENCH_RAW:-}" ] || cp "$out" "$BENCH_RAW"

if [ "${BENCH_ORIGINAL:-1}" != 0 ]; then
  start_server original
  "$client" original "$port" "${clips[@]}" >>"$out"
  stop_server
fi

speech=$(awk -F'|' '$1 == "WORK" && $2 == 1 {print $4}' "$out")
echo "# live_load: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;" \
  "${#clips[@]} clips, ${speech} s of speech per speaker"
echo
echo "Partial lag (ms): the partial's arrival at the client minus the send time of the audio frame"
echo "holding its end_ms (the end of the audio it covers). All partials counted."
echo "Streams: speakers; 4d = 4 speakers with asr.concurrency=4 (4 decoders), the others the default 2."
echo "busy: the server's busy events by reason (partials skipped). gap: from one partial of an"
echo "utterance to its next (the server sends one per 250 ms of audio when the text changed, and"
echo "holds back a partial while newer audio is already queued, so a stall shows as a gap, not as lag)."
echo
echo "| streams | partials | p50 | p95 | max | busy | gap p50 | gap p95 | gap max |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
awk -F'|' '$1 == "PARTIAL" {printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9, $10}' "$out"
echo
echo "End of speech → final (ms), per utterance. End of speech: the send time of the frame holding the"
echo "final's end_ms (the server's end of the last voiced frame). eos→final: the final's arrival minus"
echo "that. Endpoint wait: the stats event's endpoint_wait_ms (silence waited, audio time, adaptive)."
echo "endpoint frame → final: the final's arrival minus the send time of the frame that completed the"
echo "wait (final decode + queueing + transport). Server decode: the stats event's final_decode_ms."
echo "Utterances: finals with stats / clips sent (JFK's pauses split it into several utterances)."
echo
echo "| streams | utterances | wait p50 | wait p95 | eos→final p50 | eos→final p95 | eos→final − wait p50 | eos→final − wait p95 | endpoint frame → final p50 | p95 | server decode p50 | p95 | clean closes |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
awk -F'|' '$1 == "FINAL" {printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14}' "$out"
echo
echo "Original design vs ours, 1 stream, same audio. Recogniser work: audio seconds sent for recognition"
echo "per second of speech (ours: each utterance's audio_ms + endpoint_wait_ms, recognised once, plus the"
echo "partial hypotheses, which re-read no audio). Update latency: original, each POST's response time;"
echo "ours, the partial lag above. Final: original, the response time of the POST with the whole clip;"
echo "ours, eos→final (which includes the endpoint wait; the original needs a key press instead)."
echo
echo "| design | requests / utterances | audio recognised s | speech s | work per s of speech | update p50 ms | update p95 ms | final p50 ms | final p95 ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
awk -F'|' '
  $1 == "ORIGINAL" {printf "| original: 1 s chunks, whole utterance re-posted | %s POSTs (%s failed) | %s | %s | %.2f | %s | %s | %s | %s |\n", $2, $3, $4, $5, $4 / $5, $6, $7, $9, $10}
  $1 == "WORK" && $2 == 1 {w = $3; s = $4; p50 = $5; p95 = $6}
  $1 == "FINAL" && $2 == 1 {u = $3; f50 = $6; f95 = $7}
  END {printf "| ours: /v1/stream, incremental | %s utterances | %s | %s | %.2f | %s | %s | %s | %s |\n", u, w, s, w / s, p50, p95, f50, f95}' "$out"
echo
echo "Texts heard (speaker 1 of the 1-stream run, then the original design's last POST per clip):"
echo
awk -F'|' '$1 == "TEXT" && !seen[$2 "|" $3]++ {print "- " $2 " " $3 ": " $4}' "$out"
echo
echo "Word error rate of the finals speaker 1 heard (all of them, in order) against the test data's"
echo "transcriptions; the original design: its last POST per clip (a batch decode of the whole clip)."
echo
echo "| streams | words | errors | WER |"
echo "| ---: | ---: | ---: | ---: |"
awk -F'|' '$1 == "WER" {printf "| %s | %d | %d | %.1f %% |\n", $2, $4, $3, 100 * $3 / $4}' "$out"
echo
echo "Targets at 1 stream: partial lag p95 <= 400 ms; eos→final − wait p95 <= 150 ms."
