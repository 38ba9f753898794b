#!/bin/sh
# Benchmark of the GAN engine (not a test): builds bench_blend and runs it,
# printing the machine load before and after, since the figures depend on it.
#
#   scripts/bench_blend.sh [BUILD_DIR] [bench_blend options...]
#   scripts/bench_blend.sh build --threads 1
#   scripts/bench_blend.sh build --roundtrip ../shared/golden/small.safetensors
#
# Default: a two-portrait blend with a random-weight FFHQ-1024-shaped generator
# at the default settings, stage by stage, then the full-resolution
# forward + backward step time (see bench/bench_blend.cpp).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
[ $# -gt 0 ] && shift
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build" -j2 --target bench_blend
echo "load before: $(uptime)"
"$build/bench/bench_blend" "$@"
echo "load after:  $(uptime)"
