#!/usr/bin/env bash
# Builds llama-cpp-python from its PyPI source distribution (it compiles the
# llama.cpp it carries, for this CPU: GGML_NATIVE) and installs it with the
# gguf writer into the project's .venv. Takes long on a small machine: run it
# once, outside CI. Prints the build time.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python="$root/.venv/bin/python"
[ -x "$python" ] || { echo "no $python: run scripts/setup.sh first" >&2; exit 1; }
start=$(date +%s)
CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) CMAKE_ARGS="-DGGML_NATIVE=ON" \
  "$python" -m pip install --no-binary llama-cpp-python "llama-cpp-python==0.3.36" "gguf==0.19.0"
echo "llama-cpp-python built and installed in $(( $(date +%s) - start )) s"
"$python" -c "import llama_cpp; print('llama.cpp system info:', llama_cpp.llama_print_system_info().decode())"
