#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/fuzzers.cmake) for SECONDS each and prints
# executions, coverage and findings per target; exits 1 when anything was
# found. Builds the targets with clang in their own build directory first.
# Exit 77 (skipped) when clang is missing.
#
#   fuzz/run_all.sh [--build DIR] [--only TARGET]... [--runs N] [--keep-corpus] SECONDS
#
# --runs N stops a target after N executions (SECONDS still bounds it);
# SECONDS 0 only builds.
# New inputs go to DIR/fuzz-out/TARGET/corpus (the checked-in seeds are only
# read; --keep-corpus keeps what earlier runs found), crashes, hangs and leaks
# to DIR/fuzz-out/TARGET/artifacts, libFuzzer's log to DIR/fuzz-out/TARGET/log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz only=() keep=0 runs=-1 seconds=
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --only) only+=("$2"); shift 2 ;;
    --keep-corpus) keep=1; shift ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) seconds=$1; shift ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: fuzz/run_all.sh [--build DIR] [--only TARGET]... [--runs N] [--keep-corpus] SECONDS" >&2; exit 2; }
if ! command -v clang++ >/dev/null || ! command -v clang >/dev/null; then
  echo "clang not found: libFuzzer targets are skipped"
  exit 77
fi

launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOBILELLM_FUZZ=ON -DMOBILELLM_BUILD_TESTS=OFF -DMOBILELLM_BUILD_BENCH=OFF \
  "${launcher[@]}" >/dev/null
targets=()
while IFS=$'\t' read -r name _; do
  if ((${#only[@]} == 0)) || [[ " ${only[*]} " == *" $name "* ]]; then targets+=("$name"); fi
done <"$build/fuzz_targets.tsv"
((${#targets[@]})) || { echo "no fuzz target named ${only[*]}" >&2; exit 2; }
cmake --build "$build" --target "${targets[@]}"
((seconds > 0)) || exit 0

found=0
printf '%-24s %12s %10s %8s %8s %9s\n' target executions exec/s cov corpus findings
for name in "${targets[@]}"; do
  IFS=$'\t' read -r _ binary corpus dict max_len < <(grep -P "^$name\t" "$build/fuzz_targets.tsv")
  out=$build/fuzz-out/$name
  ((keep)) || rm -rf "$out/corpus"
  rm -rf "$out/artifacts"
  mkdir -p "$out/corpus" "$out/artifacts"
  args=(-max_total_time="$seconds" -runs="$runs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
        -artifact_prefix="$out/artifacts/")
  [[ $dict != - ]] && args+=(-dict="$dict")
  ((max_len > 0)) && args+=(-max_len="$max_len")
  status=0
  "$binary" "${args[@]}" "$out/corpus" "$corpus" >"$out/log" 2>&1 || status=$?
  execs=$(grep -oP 'stat::number_of_executed_units:\s*\K[0-9]+' "$out/log" | tail -1)
  rate=$(grep -oP 'exec/s:\s*\K[0-9]+' "$out/log" | tail -1)
  cov=$(grep -oP ' cov: \K[0-9]+' "$out/log" | tail -1)
  findings=$(find "$out/artifacts" -type f | wc -l)
  if ((status != 0 && findings == 0)); then findings=1; fi  # a finding libFuzzer could not save
  ((findings == 0)) || found=1
  printf '%-24s %12s %10s %8s %8s %9s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "$(find "$out/corpus" -type f | wc -l)" "$findings"
  ((findings == 0)) || { echo "  see $out/log and $out/artifacts/"; tail -n 30 "$out/log" | sed 's/^/  | /'; }
done
exit $found
