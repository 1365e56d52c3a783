#!/usr/bin/env bash
# A short libFuzzer run over parse_safetensors, as a CTest: builds fuzz_safetensors
# with clang in its own sub-build (the enclosing build may use g++), then fuzzes
# from the seed corpus for SECONDS. Exit 77 (skipped) when clang is missing.
#   fuzz/io/smoke.sh SOURCE_DIR SUB_BUILD_DIR SECONDS
set -euo pipefail
src=$1 build=$2 seconds=$3
if ! command -v clang++ >/dev/null || ! command -v clang >/dev/null; then
  echo "clang not found: the libFuzzer smoke run is skipped"
  exit 77
fi
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOBILELLM_FUZZ=ON -DMOBILELLM_BUILD_TESTS=OFF \
  -DMOBILELLM_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target fuzz_safetensors
# New inputs go to a scratch corpus; the checked-in seeds are only read.
rm -rf "$build/corpus" "$build/artifacts"
mkdir -p "$build/corpus" "$build/artifacts"
"$build/bin/fuzz_safetensors" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -dict="$src/fuzz/io/safetensors.dict" -artifact_prefix="$build/artifacts/" -print_final_stats=1 \
  "$build/corpus" "$src/fuzz/io/corpus"
