#!/usr/bin/env bash
# Installs what the project needs (Debian packages, the reference venv) and
# builds it. Idempotent: a second run only rebuilds what changed.
#   scripts/setup.sh            Release build in build/
#   scripts/setup.sh --no-build dependencies only
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

apt_packages=(build-essential cmake ninja-build pkg-config python3-venv
  nlohmann-json3-dev libcli11-dev libpcre2-dev libgtest-dev libgmock-dev libbenchmark-dev
  libedit-dev libsimde-dev clang libclang-rt-14-dev ccache)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Reference venv: built once per requirements.txt content in the user's cache
# (a fresh clone reuses it; CI runs in fresh clones) and linked as .venv.
req=tools/reference/requirements.txt
want=$(sha256sum "$req" | cut -d' ' -f1)
venv_ok() { [ -x "$1/bin/python" ] && [ "$(cat "$1/.requirements.sha256" 2>/dev/null)" = "$want" ]; }
if ! venv_ok .venv; then
  cached="${XDG_CACHE_HOME:-$HOME/.cache}/mobilellm/venv-${want:0:16}"
  if ! venv_ok "$cached"; then
    echo "setup: creating $cached with the reference packages (torch, transformers, torchao, tiktoken)"
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

if [ "${1:-}" != "--no-build" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build
fi
