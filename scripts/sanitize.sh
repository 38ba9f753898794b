#!/usr/bin/env bash
# Builds facemix with AddressSanitizer + UndefinedBehaviorSanitizer
# (FACEMIX_SANITIZE=ON, gcc) in build-asan/ and runs the fast unit tests there.
# usage: scripts/sanitize.sh [-j N] [ctest args...]      e.g. scripts/sanitize.sh -R ModelFile
# Only the facemix binary and the test programs labelled `unit` are built;
# FACEMIX_SANITIZE_TESTS="fuzz_regress_test gan_formats_test" builds (and so
# runs) only those.
# Leak detection is off (see docs/hardening.md): libtorch, OpenMP and dlib keep
# process-lifetime allocations that LeakSanitizer reports at exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-asan"
jobs=2
if [ "${1:-}" = "-j" ]; then jobs=$2; shift 2; fi

start=$(date +%s)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFACEMIX_SANITIZE=ON -DFACEMIX_BUILD_BENCH=OFF >/dev/null
# Test programs whose facemix_test(...) call carries the `unit` label.
targets=${FACEMIX_SANITIZE_TESTS:-$(cat "$root"/tests/*/CMakeLists.txt | tr '\n' ' ' | grep -o 'facemix_test([^)]*)' |
          grep -E 'LABELS +"?([a-z]+;)*unit' | sed -E 's/facemix_test\( *([A-Za-z0-9_]+).*/\1/')}
echo "sanitize.sh: building facemix $targets" | tr '\n' ' '; echo
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" --target facemix $targets
built=$(date +%s)

export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build"
# Test programs not built above register only a *_NOT_BUILT placeholder without the label.
ctest -L unit --output-on-failure "$@"
done_at=$(date +%s)
echo "sanitize.sh: build $((built - start)) s, unit tests $((done_at - built)) s"
