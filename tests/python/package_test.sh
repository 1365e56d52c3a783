#!/usr/bin/env bash
# The Python package as a user installs it: `pip install .` into a fresh venv,
# then the README's example (its first Python block under "## Python") on the
# real model. scripts/test.sh runs it once, after the C++ test suites.
#   tests/python/package_test.sh MODEL.gguf
# build-wheel/ sits beside build/, so with ccache (CCACHE_BASEDIR set to the
# checkout, as scripts/test.sh does) the wheel's compilations are the Release
# build's cache hits: about a minute on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
model=${1:?usage: package_test.sh MODEL.gguf}
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
# The Release tree's compilers by the same names (scikit-build-core would take
# Python's g++), so ccache's entries match.
args=(-Cbuild-dir=build-wheel -Ccmake.define.CMAKE_C_COMPILER=cc -Ccmake.define.CMAKE_CXX_COMPILER=c++)
if command -v ccache >/dev/null; then
  args+=(-Ccmake.define.CMAKE_C_COMPILER_LAUNCHER=ccache -Ccmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
"$work/venv/bin/pip" install -q --disable-pip-version-check "${args[@]}" .
# The version is CMake's, as `mobilellm --version` prints it (its first line); the command is installed too.
want=$(sed -n 's/^project(mobilellm VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
test "$("$work/venv/bin/mobilellm" --version | sed -n 1p)" = "mobilellm $want"
test "$("$work/venv/bin/python" -c 'import mobilellm; print(mobilellm.__version__)')" = "$want"
# The README's example, run where the model is.
awk '/^## Python/{p=1} p&&/^```python/{f=1;next} f&&/^```/{exit} f' README.md >"$work/example.py"
grep -q "import mobilellm" "$work/example.py"
cp "$model" "$work/SmolLM2-135M-Instruct.Q4_1.gguf"
out=$(cd "$work" && "$work/venv/bin/python" example.py)
echo "$out"
grep -qE "^\[[0-9, ]+\] \([0-9]+, [0-9]+\)$" <<<"$out"  # the ids and the logits shape
echo "package: pip install . and the README example work"
