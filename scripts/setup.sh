#!/usr/bin/env bash
# Sets up facemix on Debian 12: installs the missing Debian packages (as root or
# through sudo), then configures and builds Release into build/.
# Idempotent: a second run installs nothing and rebuilds only what changed.
# Nothing is downloaded except Debian packages from the configured apt archive.
#
# usage: scripts/setup.sh [--no-install] [--build-dir DIR] [-- extra cmake args]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build"
install_packages=1
cmake_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install_packages=0 ;;
    --build-dir) build_dir=$2; shift ;;
    --) shift; cmake_args=("$@"); break ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

packages=(
  cmake g++ make pkg-config
  libtorch-dev python3-torch
  libdlib-dev libdlib-data
  libopencv-dev
  libcli11-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libbenchmark-dev
  libgif-dev           # animated GIF output of morph sequences
  zlib1g-dev           # .npz latent archives (CRC-32, deflate)
  libjpeg-dev libpng-dev  # image decoding in src/io (also pulled in by OpenCV/dlib)
  python3-pil          # Pillow reference for the FFHQ alignment parity test
  imagemagick          # independent image decoder used by tests (GIF check)
  python3-numpy        # scripts/make_bad_inputs.py (bad-input corpus for tests/badinput)
  clang libclang-rt-14-dev  # libFuzzer targets (scripts/fuzz.sh, FACEMIX_FUZZ=ON) only
  ccache               # compiler cache: a rebuild of unchanged sources (a new checkout too) takes seconds
)

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
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$root"
  cmake_args=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache "${cmake_args[@]}")
fi
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "${cmake_args[@]}"
cmake --build "$build_dir" -j "$jobs"
echo "setup.sh: built $build_dir/src/facemix" >&2
