#!/usr/bin/env bash
# Quick start: installs what the facemix binary needs, builds only that binary
# (Release, no tests or benchmarks: scripts/test.sh adds them), and blends the two
# bundled example photos into out/blend.png with the engine `auto` picks
# (the landmark morph engine until a StyleGAN2 model is installed).
# usage: scripts/demo.sh [extra facemix options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" --facemix-only
mkdir -p "$root/out"
"$root/build/src/facemix" "$root/examples/"*.jpg -o "$root/out/blend.png" -y "$@"
echo "demo.sh: wrote $root/out/blend.png" >&2
