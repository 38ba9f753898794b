#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, FACEMIX_FUZZ=ON) in build-fuzz/ and runs
# each for SECONDS (default 60), one after the other.
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]    targets: model_file latent_file image_face align_landmarks manifest
# The working corpus grows in build-fuzz/corpus/<target>/ (seeded from
# fuzz/corpus/<target>/, which stays small); crash, timeout and out-of-memory
# inputs land in build-fuzz/artifacts/<target>/. Copy each one (after fixing
# the bug) to fuzz/regressions/<target>/ so that tests/fuzz_regress replays it.
# Prints, per target: seconds run, executions, corpus size, artifacts found.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(model_file latent_file image_face align_landmarks manifest)
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
        -DFACEMIX_FUZZ=ON -DFACEMIX_BUILD_TESTS=OFF -DFACEMIX_BUILD_BENCH=OFF >/dev/null || exit 1
fi
cmake --build "$build" -j 2 --target "${targets[@]/%/_fuzzer}" || exit 1

# Per-input limits: the image entry caps images at 128x128 pixels, so anything near these is a finding.
declare -A max_len=([model_file]=32768 [latent_file]=8192 [image_face]=16384 [align_landmarks]=276 [manifest]=4096)
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
summary=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t" artifacts="$build/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$build/fuzz-$t.log"
  start=$(date +%s)
  "$build/fuzz/${t}_fuzzer" "$corpus" "$root/fuzz/corpus/$t" -max_total_time="$seconds" -timeout=30 \
    -rss_limit_mb=4096 -malloc_limit_mb=2048 -max_len="${max_len[$t]:-4096}" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  # libFuzzer stops at the first crash: keep going until the time is used up.
  while [ $rc -ne 0 ] && [ $(( $(date +%s) - start )) -lt "$seconds" ]; do
    left=$(( seconds - ($(date +%s) - start) ))
    "$build/fuzz/${t}_fuzzer" "$corpus" -max_total_time="$left" -timeout=30 -rss_limit_mb=4096 \
      -malloc_limit_mb=2048 -max_len="${max_len[$t]:-4096}" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" >>"$log" 2>&1
    rc=$?
  done
  ran=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
  found=$(find "$artifacts" -type f | wc -l)
  summary+=("$(printf '%-16s %5d s %9d execs %5d corpus files %3d artifacts' "$t" "$ran" "$execs" \
               "$(find "$corpus" -type f | wc -l)" "$found")")
done
# A crashing run aborts before its temp input (fuzz_entries.cpp) is removed.
rm -f /dev/shm/facemix-fuzz-* /tmp/facemix-fuzz-*
printf '%s\n' "fuzz.sh summary (logs: build-fuzz/fuzz-<target>.log):" "${summary[@]}"
