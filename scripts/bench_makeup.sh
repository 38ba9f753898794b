#!/bin/sh
# Benchmark of the makeup transfer (not a test): builds bench_makeup and
# facemix, runs the benchmark (colour distances, pixels changed outside the
# face, time per photo; see bench/bench_makeup.cpp) and then, when this build
# has the identity network's `facemix score`, the identity distance between
# each photo and its made-up result. Prints the machine load before and after,
# since the timings depend on it.
#
#   scripts/bench_makeup.sh [BUILD_DIR] [bench_makeup options...]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
FACEMIX_SHARED=${FACEMIX_SHARED:-"$here/../shared"}
export FACEMIX_SHARED
[ $# -gt 0 ] && shift
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build" -j2 --target bench_makeup facemix
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
echo "load before: $(uptime)"
"$build/bench/bench_makeup" --out-dir "$results" "$@"
echo "load after:  $(uptime)"

facemix="$build/src/facemix"
if ! "$facemix" --help 2>&1 | grep -qE '^  score( |$)'; then
  echo "identity: this build has no 'facemix score' (the identity network); distances not measured"
  exit 0
fi
portraits=$FACEMIX_SHARED/faces/portraits
echo "identity distance, photo vs result (target under 0.35), as 'facemix score PHOTO RESULT' prints it:"
for result in "$results"/*.png; do
  photo=$(basename "$result" .png)
  photo=${photo%%__*}
  [ -f "$portraits/$photo.jpg" ] || continue  # a photo given by path: scored by hand
  printf '%s: ' "$(basename "$result" .png)"
  "$facemix" -q score "$portraits/$photo.jpg" "$result"
done
