# Sourced by scripts/run, scripts/test and bench/lib.sh (not run on its own):
# how ggml's OpenMP threads (whisper.cpp, llama.cpp) wait between pieces of
# work. A graph (one llama_decode, one whisper step) is ~100 operations with
# a barrier after each, so a waiting thread is woken ~100 times per decode:
# - libgomp's default spins ~300000 times (~11 ms of a core after every
#   graph here) before it sleeps: on a busy 2-core machine that starves
#   everything else (the recogniser, the HTTP threads);
# - OMP_WAIT_POLICY=passive sleeps at once: the futex wake-ups doubled the
#   time of a llama.cpp decode step and used more CPU, not less;
# - a short spin (GOMP_SPINCOUNT=3000, ~0.15 ms) keeps the barriers fast and
#   costs ~0.2 ms of a core per idle gap.
# Measured on the 2-core VM with a quarter-width Llama 3.2 1B layer shape
# (512 wide, 4 layers, f32), 2 threads, one token decoded after a 900-token
# prompt, median ms: passive 4.4-5.0, spin 1000 2.0-2.2, spin 10000
# 2.2-2.4, libgomp default 2.1. CPU per idle gap (a parallel region, then
# 20 ms asleep): passive 0.09 ms, spin 1000 0.14, 10000 0.60, 300000 10.8.
# Whoever sets either variable keeps their choice.
if [ -z "${GOMP_SPINCOUNT:-}" ] && [ -z "${OMP_WAIT_POLICY:-}" ]; then
  export GOMP_SPINCOUNT=3000
fi
