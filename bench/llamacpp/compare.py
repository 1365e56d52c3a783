#!/usr/bin/env python3
"""Our engine and llama.cpp on the same shape and weights, in one run, with our/their ratios.

    .venv/bin/python bench/llamacpp/compare.py --ours MODEL.q4g32 --gguf MODEL.q4_0.gguf \
        [--threads 2] [--prompt 2048,8192] [--gen 64] [--mobilellm build/bin/mobilellm]

Setup: bench/llamacpp/setup.sh (builds llama-cpp-python from PyPI), then write_gguf.py.

Both engines do the same work: prefill P random token ids in batches (ours: 256 per forward
pass, llama.cpp: n_batch = n_ubatch = 512, as llama-bench), logits of the last token only; then
decode G tokens one at a time at depth P (every step computes the full logits row). The llama.cpp
side is timed through the llama.cpp C API that llama-cpp-python exposes (llama_decode on a
llama_batch, as llama-bench does), with its KV cache in f16 (its default) and flash attention on
(its faster CPU path at depth). Ours runs first (`mobilellm bench --json`), then llama.cpp, in
this process's run, sequentially, never concurrently.

llama.cpp's threads synchronise through OpenMP. On a machine shared with other work its default
active (spinning) wait collapses (a waiting thread burns the core its peer needs: 0.2 tok/s instead
of 6.6 measured here), so llama.cpp runs with OMP_WAIT_POLICY=passive unless --omp-wait active.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path


def ours(binary: str, model: str, threads: int, prompts: list[int], gen: int) -> dict:
    cmd = [binary, "bench", "-m", model, "-t", str(threads), "--prompt", ",".join(map(str, prompts)),
           "--gen", str(gen), "--json"]
    print("$", " ".join(cmd), flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


class LlamaCpp:
    def __init__(self, path: str, threads: int, n_ctx: int):
        import llama_cpp as L
        self.L = L
        # Its per-tensor load messages would bury the results.
        self._quiet = L.llama_log_callback(lambda level, text, data: None)
        L.llama_log_set(self._quiet, ctypes.c_void_p())
        L.llama_backend_init()
        mp = L.llama_model_default_params()
        self.model = L.llama_model_load_from_file(path.encode(), mp)
        if not self.model:
            raise SystemExit(f"llama.cpp could not load {path}")
        cp = L.llama_context_default_params()
        cp.n_ctx = n_ctx
        cp.n_batch = 512
        cp.n_ubatch = 512
        cp.n_threads = threads
        cp.n_threads_batch = threads
        if hasattr(cp, "flash_attn_type"):
            cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_ENABLED
        else:
            cp.flash_attn = True
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise SystemExit("llama.cpp could not create a context")
        self.vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(self.model))
        self.batch = L.llama_batch_init(512, 0, 1)
        self.info = L.llama_print_system_info().decode()

    def clear(self) -> None:
        L = self.L
        if hasattr(L, "llama_memory_clear"):
            L.llama_memory_clear(L.llama_get_memory(self.ctx), True)
        else:
            L.llama_kv_self_clear(self.ctx)

    def decode(self, ids: list[int], pos0: int) -> None:
        b = self.batch
        for start in range(0, len(ids), 512):
            chunk = ids[start:start + 512]
            b.n_tokens = len(chunk)
            for i, t in enumerate(chunk):
                b.token[i] = t
                b.pos[i] = pos0 + start + i
                b.n_seq_id[i] = 1
                b.seq_id[i][0] = 0
                b.logits[i] = start + i == len(ids) - 1
            if self.L.llama_decode(self.ctx, b) != 0:
                raise SystemExit("llama_decode failed")
        self.L.llama_synchronize(self.ctx)

    def run(self, prompt: int, gen: int) -> dict:
        rng = random.Random(prompt)
        self.clear()
        row = {"depth": prompt}
        if prompt:
            ids = [rng.randrange(min(self.vocab, 200000)) for _ in range(prompt)]
            t = time.perf_counter()
            self.decode(ids, 0)
            row["prefill_tokens_per_s"] = prompt / (time.perf_counter() - t)
        t = time.perf_counter()
        for i in range(gen):
            self.decode([rng.randrange(min(self.vocab, 200000))], prompt + i)
        row["decode_tokens_per_s"] = gen / (time.perf_counter() - t)
        return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt", default="2048,8192")
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--mobilellm", default=str(Path(__file__).resolve().parents[2] / "build/bin/mobilellm"))
    ap.add_argument("--omp-wait", choices=["passive", "active"], default="passive",
                    help="OMP_WAIT_POLICY for llama.cpp's threads (read when llama_cpp is imported)")
    args = ap.parse_args()
    os.environ["OMP_WAIT_POLICY"] = args.omp_wait.upper()
    prompts = [int(p) for p in args.prompt.split(",") if p]

    mine = ours(args.mobilellm, args.ours, args.threads, prompts, args.gen)
    print(json.dumps(mine, indent=2), flush=True)

    llama = LlamaCpp(args.gguf, args.threads, max(prompts + [0]) + args.gen + 16)
    print("llama.cpp:", llama.info, flush=True)
    theirs = [llama.run(0, args.gen)] + [llama.run(p, args.gen) for p in prompts]
    print(json.dumps(theirs, indent=2), flush=True)

    print(f"\n{'context':>10} {'':>8} {'ours tok/s':>11} {'llama.cpp tok/s':>16} {'ours/theirs':>12}")
    for m, t in zip(mine["rows"], theirs):
        label = str(m["depth"]) if m["depth"] else "none"
        if "prefill_tokens_per_s" in t:
            p_ours, p_theirs = m["prefill_tokens_per_s"], t["prefill_tokens_per_s"]
            print(f"{label:>10} {'prefill':>8} {p_ours:11.2f} {p_theirs:16.2f} {p_ours / p_theirs:11.2f}x")
        d_ours, d_theirs = m["decode_tokens_per_s"], t["decode_tokens_per_s"]
        print(f"{label:>10} {'decode':>8} {d_ours:11.2f} {d_theirs:16.2f} {d_ours / d_theirs:11.2f}x")
    print(f"\nours: {mine['threads']} threads, kernels {mine['kernels']}, bandwidth {mine['bandwidth_gb_s']:.2f} GB/s, "
          f"peak RSS {mine['peak_rss_mb']:.0f} MB; llama.cpp: {args.threads} threads, {Path(args.gguf).name}, f16 KV, "
          f"flash attention, "
          f"OMP_WAIT_POLICY={args.omp_wait}")


if __name__ == "__main__":
    sys.exit(main())
