#!/usr/bin/env bash
# Builds llama.cpp's llama-bench, llama-cli, llama-perplexity and llama-server from the
# llama.cpp that llama-cpp-python 0.3.16's PyPI source distribution carries,
# for this CPU (GGML_NATIVE), the way a user's build runs: on a CPU with
# AMX-INT8 it must take ggml's AMX path, and the script checks that it does.
#
#   bench/llamacpp/build_llama_bench.sh [DIR] [--model FILE.gguf]
#
# DIR (default ~/.cache/mobilellm/llama-cpp-0.3.16) receives the sdist (fetched
# with pip unless LLAMA_CPP_SDIST names an unpacked copy or the .tar.gz) and
# the build; the binaries land in DIR/build/bin. --model (default: the SmolLM2
# GGUF of scripts/fetch_model.sh, when present) is the file the AMX check loads.
#
# Why clang with -D__AMX_INT8__=1 -D__AMX_TILE__=1: GCC 12 miscompiles ggml's
# AMX code (it drops the stores that fill the tile configuration; llama.cpp
# then crashes), and clang 14 names its macros __AMXINT8__/__AMXTILE__ where
# ggml tests __AMX_INT8__, so a plain clang build silently leaves AMX out.
set -euo pipefail
version=0.3.16
dir=$HOME/.cache/mobilellm/llama-cpp-$version
model=$HOME/.cache/mobilellm/models/SmolLM2-135M-Instruct.Q4_1.gguf
while [ $# -gt 0 ]; do
  case $1 in
    --model) model=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) dir=$1; shift ;;
  esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The source: an unpacked sdist, its tarball, or pip's download of it.
src=${LLAMA_CPP_SDIST:-$dir/llama_cpp_python-$version.tar.gz}
if [ ! -e "$src" ]; then
  python3 -m pip download --no-binary :all: --no-deps -d "$dir" "llama-cpp-python==$version"
fi
if [ -f "$src" ]; then
  [ -d "$dir/llama_cpp_python-$version" ] || tar -xzf "$src" -C "$dir"
  src=$dir/llama_cpp_python-$version
fi
llama=$src/vendor/llama.cpp
[ -f "$llama/CMakeLists.txt" ] || { echo "no llama.cpp source at $llama" >&2; exit 1; }

flags=""
amx=0
if grep -qw amx_int8 /proc/cpuinfo && grep -qw amx_tile /proc/cpuinfo; then
  amx=1
  command -v clang >/dev/null && command -v clang++ >/dev/null ||
    { echo "this CPU has AMX-INT8: install clang (GCC 12 miscompiles ggml's AMX code)" >&2; exit 1; }
  flags="-D__AMX_INT8__=1 -D__AMX_TILE__=1"
  echo "CPU has AMX-INT8: building ggml's AMX path with clang ($flags)"
else
  echo "CPU has no AMX-INT8: building without ggml's AMX path"
fi
cc=$(command -v clang || command -v cc)
cxx=$(command -v clang++ || command -v c++)

start=$(date +%s)
cmake -S "$llama" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON
nice cmake --build "$dir/build" -j "$(nproc)" --target llama-bench llama-cli llama-perplexity llama-server
echo "llama.cpp built in $(( $(date +%s) - start )) s: $dir/build/bin"

# llama-bench -v keeps llama.cpp's load log, which names each weight buffer.
if [ ! -f "$model" ]; then
  echo "no $model: skipped the AMX check (scripts/fetch_model.sh fetches it)"
  exit 0
fi
log=$("$dir/build/bin/llama-bench" -m "$model" -t 2 -p 32 -n 0 -r 1 -v 2>&1) ||
  { echo "$log" | tail -20 >&2; echo "llama-bench failed on $model" >&2; exit 1; }
if echo "$log" | grep -q "AMX model buffer"; then
  echo "AMX path in use: $(echo "$log" | grep -m1 "AMX model buffer" | sed 's/^ *//')"
elif [ $amx = 1 ]; then
  echo "$log" | grep -i "buffer size\|system_info" >&2
  echo "this CPU has AMX-INT8 but llama.cpp's load log shows no \"AMX model buffer\"" >&2
  exit 1
else
  echo "llama-bench ran on $model (CPU path, no AMX on this CPU)"
fi
