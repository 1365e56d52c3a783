#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds Release and an
# AddressSanitizer + UndefinedBehaviorSanitizer configuration, and runs CTest
# on both. .ci/run calls exactly this.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh --no-build

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOBILELLM_SANITIZE=ON \
  -DMOBILELLM_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan

echo "== Release"
ctest --test-dir build --output-on-failure -j2
echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2 -LE no_sanitizer
