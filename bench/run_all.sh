#!/usr/bin/env bash
# Every measurement in BENCHMARKS.md, one after another (never two at once),
# each printed with its command. Run it on a quiet machine:
#   bench/run_all.sh [OUT_DIR]        (default: bench-results/)
# Needs: scripts/quickstart.sh (build/, .venv, models/random-pro) and
# bench/llamacpp/setup.sh (llama-cpp-python + gguf in .venv), and for the
# SmolLM2 rows scripts/fetch_model.sh and bench/llamacpp/build_llama_bench.sh
# (LLAMA_BENCH, LLAMA_SERVER and SMOLLM2_GGUF override where they are). Writes the converted
# models and the GGUF files into OUT_DIR once and reuses them.
# Takes about 50 minutes on the 2-core development machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-bench-results}
mkdir -p "$out"
bin=build/bin/mobilellm
py=.venv/bin/python
ckpt=models/random-pro
threads=2
llama_bench=${LLAMA_BENCH:-$HOME/.cache/mobilellm/llama-cpp-0.3.16/build/bin/llama-bench}
llama_server=${LLAMA_SERVER:-$(dirname "$llama_bench")/llama-server}
smollm2=${SMOLLM2_GGUF:-$HOME/.cache/mobilellm/models/SmolLM2-135M-Instruct.Q4_1.gguf}
for need in "$bin" "$py" "$llama_bench" "$llama_server" "$smollm2"; do
  [ -e "$need" ] || { echo "missing $need (see the setup this script's header names)" >&2; exit 1; }
done

step() {  # step NAME COMMAND...: runs and logs one measurement
  local name=$1
  shift
  {
    echo "=== $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "\$ $*"
    "$@"
  } 2>&1 | tee "$out/$name.txt"
}

[ -f "$out/pro.q4g32" ] || step convert /usr/bin/time -f "convert wall %e s, max RSS %M KB" \
  "$bin" convert -m "$ckpt" -o "$out/pro.q4g32" --scheme q4g32 -t "$threads"
[ -f "$out/pro.q4_0.gguf" ] || "$py" bench/llamacpp/write_gguf.py "$ckpt" "$out/pro.q4_0.gguf" --type q4_0
[ -d "$out/tiny" ] || "$bin" make-random -o "$out/tiny" --preset tiny --tokenizer ../shared/data/llama4-tokenizer
[ -f "$out/pro.bf16.gguf" ] || "$py" bench/llamacpp/write_gguf.py "$ckpt" "$out/pro.bf16.gguf" --type bf16

step membw build/bin/membw "$threads" 1024
step float_vs_llamacpp "$py" bench/llamacpp/compare.py --ours "$ckpt" --gguf "$out/pro.bf16.gguf" \
  --threads "$threads" --prompt 512 --gen 32
step q4_vs_llamacpp "$py" bench/llamacpp/compare.py --ours "$out/pro.q4g32" --gguf "$out/pro.q4_0.gguf" \
  --threads "$threads" --prompt 2048,8192 --gen 64
[ -f "$out/pro.q4_1" ] || step convert_q4_1 /usr/bin/time -f "convert wall %e s, max RSS %M KB" \
  "$bin" convert -m "$ckpt" -o "$out/pro.q4_1" --scheme q4_1 -t "$threads"
step q4g32_vs_q4_1 bash -c "'$bin' bench -m '$out/pro.q4g32' -t $threads --prompt 512 --gen 64 && \
  '$bin' bench -m '$out/pro.q4_1' -t $threads --prompt 512 --gen 64"
step q4_long "$bin" bench -m "$out/pro.q4g32" -t "$threads" --prompt 8192,32768 --gen 16
step q4_long_all_global "$bin" bench -m "$out/pro.q4g32" -t "$threads" --prompt 8192,32768 --gen 16 --all-global
step q4_kv_sizes "$bin" bench -m "$out/pro.q4g32" -t "$threads" --prompt "" --synthetic-depth 2048,4096,8192 --gen 16
step q4_131k /usr/bin/time -f "max RSS %M KB" \
  "$bin" bench -m "$out/pro.q4g32" -t "$threads" --prompt "" --synthetic-depth 131056 --gen 16
step serve_vs_llama_server "$py" bench/llamacpp/compare_server.py --ours "$out/pro.q4g32" --gguf "$out/pro.q4_0.gguf" \
  --llama-server "$llama_server" --tokenizer ../shared/data/llama4-tokenizer --threads "$threads" --parallel 1,2,4,8 \
  --prompt 32 --gen 64 --late-prompt 16 --reps 3 --json "$out/serve_vs_llama_server.json"
step smollm2_vs_llama_bench "$py" bench/llamacpp/compare_llama_bench.py --gguf "$smollm2" \
  --llama-bench "$llama_bench" --threads "$threads" --reps 5 --work "$out"
step tokenizer "$py" bench/tokenizer/compare_tiktoken.py --bench build/bin/tokenizer_bench
step server_load env MOBILELLM_LOAD_REPORT="$out/server_load.json" "$py" -m pytest -q -s tests/server/test_load.py \
  --mobilellm "$bin" --model "$out/tiny"
