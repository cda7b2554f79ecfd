# Sourced by the bench/*.sh scripts (not run on its own).
#
# bench_release_build DIR TARGET...: configures DIR as a Release build when it
# has no cache yet, refuses a non-Release DIR (timings from a Debug or
# sanitizer build would mislead), and builds only TARGET... with
# $BENCH_JOBS jobs (default 2). Also sets how ggml's OpenMP threads wait
# for work, as scripts/run does (scripts/omp-env.sh).
bench_release_build() {
  local build=$1
  shift
  [ -f "$build/CMakeCache.txt" ] ||
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt" ||
    { echo "$build is not a Release build dir" >&2; exit 2; }
  ninja -C "$build" -j"${BENCH_JOBS:-2}" "$@" >/dev/null
  . scripts/omp-env.sh
}
