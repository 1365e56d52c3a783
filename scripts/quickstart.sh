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
# The Llama-4 tokenizer ranks live beside the checkout (../shared), not in it.
tokenizer=${MOBILELLM_TOKENIZER:-../shared/data/llama4-tokenizer/tokenizer.model}
if [ ! -f "$model/model.safetensors" ]; then
  args=()
  [ -f "$tokenizer" ] && args=(--tokenizer "$tokenizer")
  build/bin/mobilellm make-random -o "$model" --preset pro "${args[@]}"
fi
if [ -f "$model/tokenizer.model" ] || [ -f "$model/tokenizer.json" ]; then
  build/bin/mobilellm run -m "$model" -p "The capital of France is" -n 32
else
  echo "no tokenizer found (set MOBILELLM_TOKENIZER=/path/to/tokenizer.model): generating from token ids"
  build/bin/mobilellm run -m "$model" --prompt-ids "200000 791 6633 315 9625 374" -n 32 --print-ids
fi
