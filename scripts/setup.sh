#!/usr/bin/env bash
# Sets up facemix on Debian 12: installs the missing Debian packages (as root or
# through sudo), then configures and builds Release into build/.
# Idempotent: a second run installs nothing and rebuilds only what changed.
# Nothing is downloaded except Debian packages from the configured apt archive.
# --facemix-only (scripts/demo.sh): only the packages and the one target the
# facemix binary needs (no tests, benchmarks or converter); a later full run
# (scripts/test.sh) reuses the same build directory and adds the rest.
#
# usage: scripts/setup.sh [--no-install] [--facemix-only] [--build-dir DIR] [-- extra cmake args]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build"
install_packages=1
facemix_only=0
cmake_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install_packages=0 ;;
    --facemix-only) facemix_only=1 ;;
    --build-dir) build_dir=$2; shift ;;
    --) shift; cmake_args=("$@"); break ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

# What the facemix binary needs to build and run.
packages=(
  cmake g++ make pkg-config
  libtorch-dev
  libdlib-dev libdlib-data
  libopencv-dev
  libcli11-dev libspdlog-dev nlohmann-json3-dev
  libgif-dev           # animated GIF output of morph sequences
  zlib1g-dev           # .npz latent archives (CRC-32, deflate)
  libjpeg-dev libpng-dev  # image decoding in src/io (also pulled in by OpenCV/dlib)
  ccache               # compiler cache: a rebuild of unchanged sources (a new checkout too) takes seconds
)
# Tests, benchmarks and the checkpoint converter.
if [ "$facemix_only" = 0 ]; then
  packages+=(
    python3-torch        # scripts/convert_weights.py (checkpoint conversion) and its tests
    libgtest-dev libbenchmark-dev
    python3-pil          # Pillow reference for the FFHQ alignment parity test
    imagemagick          # independent image decoder used by tests (GIF check)
    python3-numpy        # scripts/make_bad_inputs.py (bad-input corpus for tests/badinput)
    clang libclang-rt-14-dev  # libFuzzer targets (scripts/fuzz.sh, FACEMIX_FUZZ=ON) only
  )
fi

if [ "$install_packages" = 1 ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}" >&2
    sudo_cmd=()
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null || { echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
      sudo_cmd=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -q
    "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

jobs=$(nproc 2>/dev/null || echo 2)
# ccache keys on paths relative to the checkout, so every checkout of the same
# sources (CI's fresh clones included) shares one cache.
# The sloppiness lets ccache cache the sources compiled with the precompiled
# Torch header (FACEMIX_PCH). Both settings ride in the launcher, so that any
# later `cmake --build` of this directory has them too.
if command -v ccache >/dev/null; then
  cmake_args=("-DCMAKE_CXX_COMPILER_LAUNCHER=env;CCACHE_BASEDIR=$root;CCACHE_SLOPPINESS=pch_defines,time_macros;ccache"
              "${cmake_args[@]}")
fi
if [ "$facemix_only" = 1 ]; then
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
    -DFACEMIX_BUILD_TESTS=OFF -DFACEMIX_BUILD_BENCH=OFF "${cmake_args[@]}"
  cmake --build "$build_dir" -j "$jobs" --target facemix
else
  # ON explicitly: a build directory configured by --facemix-only gets them back.
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
    -DFACEMIX_BUILD_TESTS=ON -DFACEMIX_BUILD_BENCH=ON "${cmake_args[@]}"
  cmake --build "$build_dir" -j "$jobs"
fi
echo "setup.sh: built $build_dir/src/facemix" >&2
