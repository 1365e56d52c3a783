#!/usr/bin/env bash
# A short libFuzzer run over GgufFile::parse, as a CTest: builds fuzz_gguf
# with clang in its own sub-build (the enclosing build may use g++), then fuzzes
# from the seed corpus for SECONDS. Exit 77 (skipped) when clang is missing.
#   fuzz/gguf/smoke.sh SOURCE_DIR SUB_BUILD_DIR SECONDS
set -euo pipefail
src=$1 build=$2 seconds=$3
if ! command -v clang++ >/dev/null || ! command -v clang >/dev/null; then
  echo "clang not found: the libFuzzer smoke run is skipped"
  exit 77
fi
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOBILELLM_FUZZ=ON -DMOBILELLM_BUILD_TESTS=OFF \
  -DMOBILELLM_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target fuzz_gguf
# New inputs go to a scratch corpus; the checked-in seeds are only read.
rm -rf "$build/corpus" "$build/artifacts"
mkdir -p "$build/corpus" "$build/artifacts"
"$build/bin/fuzz_gguf" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -dict="$src/fuzz/gguf/gguf.dict" -artifact_prefix="$build/artifacts/" -print_final_stats=1 \
  "$build/corpus" "$src/fuzz/gguf/corpus"
