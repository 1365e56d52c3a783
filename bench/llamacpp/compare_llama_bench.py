#!/usr/bin/env python3
"""Our engine against llama.cpp's own llama-bench on one GGUF file, with llama-bench's definitions.

    .venv/bin/python bench/llamacpp/compare_llama_bench.py --gguf SmolLM2-135M-Instruct.Q4_1.gguf \\
        --llama-bench DIR/build/bin/llama-bench [--threads 2] [--reps 5] [--work bench-results]

llama-bench comes from bench/llamacpp/build_llama_bench.sh (on an AMX CPU, with ggml's AMX path;
this script reads llama.cpp's load log and says whether the weights sat in an "AMX model buffer").

Definitions, as tools/llama-bench/llama-bench.cpp measures (llama.cpp as vendored by
llama-cpp-python 0.3.16):
  pp512  512 random prompt tokens decoded as one batch (n_ubatch 512) into an empty context;
         tok/s = 512 / time until the batch's logits are ready.
  tg128  128 tokens decoded one at a time from an empty context, each step's logits computed;
         tok/s = 128 / time.
Each test runs once unmeasured (warm-up), then --reps times from a cleared cache; the figure is
the mean of the per-repetition tok/s with its sample standard deviation (n - 1).
Ours: `mobilellm bench --prompt 512 --gen 128 --reps R --warmup --batch 512 --json`: its "no
context" row is tg128 and its prefill of the 512 row is pp512 (the decode after that prefill is
not used). Ours runs on (a) the GGUF itself, (b) its `convert --scheme q4_1` file (the Q4_1 blocks
kept bit for bit), (c) its `convert --scheme q4g32` file; each is compared with llama.cpp on the
GGUF. The engines run one after the other, never at once. llama.cpp's threads wait as its default
build makes them (WAIT_SETTINGS below are removed from its environment).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# How OpenMP threads wait (GNU libgomp and LLVM libomp): left at the build's defaults for llama.cpp.
WAIT_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


def cpu_description() -> str:
    model, flags, cores = platform.processor() or "unknown CPU", set(), 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name":
                model = value.strip()
                cores += 1
            elif key == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    isa = [name for flag, name in [("avx2", "AVX2"), ("avx512f", "AVX-512"), ("avx512_vnni", "VNNI"),
                                   ("amx_int8", "AMX-INT8")] if flag in flags]
    return f"{model}, {cores} logical CPUs, {', '.join(isa) or 'no AVX2'}"


def show(cmd: list[str]) -> str:
    return " ".join(shlex.quote(str(c)) for c in cmd)


def llama_bench(binary: str, gguf: str, threads: int, prompt: int, gen: int, reps: int) -> tuple[dict, str, list]:
    cmd = [binary, "-m", gguf, "-t", str(threads), "-p", str(prompt), "-n", str(gen), "-r", str(reps), "-o", "json",
           "-v"]
    print("$", show(cmd), flush=True)
    env = {k: v for k, v in os.environ.items() if k not in WAIT_SETTINGS}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"llama-bench failed ({r.returncode}):\n{r.stderr[-3000:]}")
    tests = {}
    for t in json.loads(r.stdout):
        name = f"pp{t['n_prompt']}" if t["n_prompt"] else f"tg{t['n_gen']}"
        tests[name] = t
    amx = re.search(r"AMX model buffer size = .*", r.stderr)
    return tests, amx.group(0) if amx else "", cmd


def ours(binary: str, model: str, threads: int, prompt: int, gen: int, reps: int, batch: int) -> tuple[dict, list]:
    cmd = [binary, "bench", "-m", model, "-t", str(threads), "--prompt", str(prompt), "--gen", str(gen),
           "--reps", str(reps), "--warmup", "--batch", str(batch), "--json"]
    print("$", show(cmd), flush=True)
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    rows = {r["depth"]: r for r in out["rows"]}
    return {
        f"pp{prompt}": (rows[prompt]["prefill_tokens_per_s"], rows[prompt]["prefill_tokens_per_s_stdev"]),
        f"tg{gen}": (rows[0]["decode_tokens_per_s"], rows[0]["decode_tokens_per_s_stdev"]),
        "kernels": out["kernels"],
    }, cmd


def convert(binary: str, gguf: str, out: Path, scheme: str, threads: int) -> None:
    if out.exists():
        return
    cmd = [binary, "convert", "-m", gguf, "-o", str(out), "--scheme", scheme, "-t", str(threads)]
    print("$", show(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True)  # its per-tensor report would bury the table
    if r.returncode != 0:
        sys.exit(f"convert failed ({r.returncode}):\n{r.stderr[-3000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--llama-bench", required=True, help="llama-bench binary (build_llama_bench.sh)")
    ap.add_argument("--mobilellm", default=str(ROOT / "build/bin/mobilellm"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5, help="repetitions per test (llama-bench's default: 5)")
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--gen", type=int, default=128)
    ap.add_argument("--batch", type=int, default=512, help="our prefill batch (llama-bench's n_ubatch: 512)")
    ap.add_argument("--work", default=str(ROOT / "bench-results"), help="where the converted files are kept")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    stem = Path(args.gguf).name.removesuffix(".gguf")
    models = {"GGUF": args.gguf}
    for scheme in ("q4_1", "q4g32"):
        path = work / f"{stem}.{scheme}"
        convert(args.mobilellm, args.gguf, path, scheme, args.threads)
        models[f"convert {scheme}"] = str(path)

    theirs, amx, their_cmd = llama_bench(args.llama_bench, args.gguf, args.threads, args.prompt, args.gen, args.reps)
    mine = {}
    for label, path in models.items():
        mine[label] = ours(args.mobilellm, path, args.threads, args.prompt, args.gen, args.reps, args.batch)

    first = next(iter(theirs.values()))
    print(f"\nCPU        {cpu_description()}")
    print(f"llama.cpp  {first.get('build_commit', '?')} ({first.get('backends', '?')}), {first.get('type_k', '?')} KV, "
          f"flash attention {'on' if first.get('flash_attn') else 'off'}, n_batch {first.get('n_batch')}, "
          f"n_ubatch {first.get('n_ubatch')}; weights: {amx or 'no AMX model buffer in its load log'}")
    print(f"ours       kernels {next(iter(mine.values()))[0]['kernels']}, prefill batch {args.batch}")
    print(f"threads    {args.threads}, {args.reps} repetitions after a warm-up run, mean ± sample stdev")
    print(f"commands   {show(their_cmd)}")
    print(f"           {show(mine['GGUF'][1]).replace(args.gguf, 'MODEL')}")
    for label, path in models.items():
        print(f"MODEL      {label}: {path}")
    print()
    print(f"| ours: model | test | ours tok/s | llama.cpp tok/s (GGUF) | ours/llama.cpp |")
    print(f"|---|---|---|---|---|")
    for label, (result, _) in mine.items():
        for test in (f"pp{args.prompt}", f"tg{args.gen}"):
            o_mean, o_sd = result[test]
            t_mean, t_sd = theirs[test]["avg_ts"], theirs[test]["stddev_ts"]
            print(f"| {label} | {test} | {o_mean:.2f} ± {o_sd:.2f} | {t_mean:.2f} ± {t_sd:.2f} | "
                  f"{o_mean / t_mean:.2f}× |")


if __name__ == "__main__":
    sys.exit(main())
