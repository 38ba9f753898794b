#!/bin/sh
# Regenerates the before | reference | after triptychs of docs/makeup.md from
# the shared faces (../shared/faces), with bench_makeup --triptychs.
#
#   scripts/makeup_docs.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
FACEMIX_SHARED=${FACEMIX_SHARED:-"$here/../shared"}
export FACEMIX_SHARED
faces=$FACEMIX_SHARED/faces
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build" -j2 --target bench_makeup
out="$here/docs/makeup"
mkdir -p "$out"
rm -f "$out"/*.jpg
run() {  # REFERENCE PHOTO...: one triptych per photo
  ref=$1
  shift
  "$build/bench/bench_makeup" --repeat 1 --references "$ref" --photos "$(echo "$@" | tr ' ' ',')" \
    --triptychs "$out" >/dev/null
}
run M001228.jpg C001088.jpg D000600.jpg "$faces/congress_N000189_beard_glasses.jpg"
run C001135.jpg B001315.jpg L000571.jpg
run B001281.jpg H001068.jpg
ls -l "$out"
