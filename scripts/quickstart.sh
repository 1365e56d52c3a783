#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to generated text: installs the
# dependencies, builds, writes a full-size MobileLLM-Pro checkpoint with
# RANDOM weights (real weights cannot be downloaded here), and generates.
# With real weights: build/bin/mobilellm run -m /path/to/MobileLLM-Pro -p "..."
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
model=models/random-pro
if [ ! -f "$model/model.safetensors" ]; then
  build/bin/mobilellm make-random -o "$model" --preset pro
fi
build/bin/mobilellm run -m "$model" --prompt-ids "200000 1556 583 650" -n 32 --temp 0
