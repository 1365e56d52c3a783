#!/usr/bin/env python3
"""Encode throughput, one thread, of mobilellm's tokenizer and of tiktoken on
the same ~10 MB mixed corpus, in the same run. Documents are the generated
mixed-script ones from tools/reference/tokenizer/corpus.py (no document needs
the 25,000-character run rule, so both engines do the same work).

  .venv/bin/python bench/tokenizer/compare_tiktoken.py --bench build/bin/tokenizer_bench
"""
import argparse
import json
import os
import pathlib
import struct
import subprocess
import sys
import tempfile
import time

root = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(root / "tools/reference/tokenizer"))
import corpus  # noqa: E402
import llama4_reference as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True, help="path of the tokenizer_bench binary")
    ap.add_argument("--data", default=str(root.parent / "shared/data/llama4-tokenizer"))
    ap.add_argument("--bytes", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = "1"

    docs = [d for d in corpus.documents(args.bytes) if len(d) < ref.MAX_RUN_CHARS]
    model = pathlib.Path(args.data) / "tokenizer.model"
    enc = ref.tiktoken_encoding(model, pathlib.Path(args.data) / "special_tokens.tsv")
    total = sum(len(d.encode()) for d in docs)

    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
        f.write(struct.pack("<I", len(docs)))
        for d in docs:
            b = d.encode()
            f.write(struct.pack("<I", len(b)) + b)
        path = f.name
    try:
        best, best_cpu, tokens = 1e30, 1e30, 0
        for _ in range(args.repeats):
            start, cpu_start = time.perf_counter(), time.thread_time()
            tokens = sum(len(enc.encode_ordinary(d)) for d in docs)
            best_cpu = min(best_cpu, time.thread_time() - cpu_start)
            best = min(best, time.perf_counter() - start)
        ours = json.loads(subprocess.run([args.bench, str(model), path, str(args.repeats)], check=True,
                                         capture_output=True, text=True).stdout)
    finally:
        os.unlink(path)
    print(f"corpus: {len(docs)} documents, {total / 1e6:.1f} MB; best of {args.repeats}, one thread")
    print(f"{'engine':<12}{'MB/s wall':>10}{'MB/s CPU':>10}{'tokens':>10}")
    print(f"{'tiktoken':<12}{total / best / 1e6:>10.2f}{total / best_cpu / 1e6:>10.2f}{tokens:>10}")
    print(f"{'mobilellm':<12}{total / ours['seconds'] / 1e6:>10.2f}{total / ours['cpu_seconds'] / 1e6:>10.2f}{ours['tokens']:>10}")
    print(f"speed-up: {best / ours['seconds']:.2f}x wall, {best_cpu / ours['cpu_seconds']:.2f}x CPU "
          f"(tokenizer load: {ours['load_seconds']:.3f} s)")
    if ours["tokens"] != tokens:
        sys.exit(f"token counts differ: tiktoken {tokens}, mobilellm {ours['tokens']}")


if __name__ == "__main__":
    main()
