"""GGUF models the engine cannot run exactly: `mobilellm run` and `mobilellm
perplexity` must refuse each with exit status 1 and the kind's own message
(src/model/checkpoint.cpp gguf_model_config / open_gguf), never a crash.

    gguf_refusals.py --mobilellm BIN --work DIR --kind KIND

Kind "valid" is the control: the unmutated tiny GGUF (tiny_gguf.py) runs.
"""
import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiny_gguf  # noqa: E402

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
                   "SUMMARY:", "terminate called")

# kind: (arch, metadata(w, arch), extra tensors, standard keys left out, expected message)
KINDS = {
    "experts": ("llama4", lambda w, a: w.add_uint32(f"{a}.expert_count", 16), None, (),
                r"llama4\.expert_count is 16; only dense Llama-4 models \(no experts\) are supported"),
    "rope_freqs": ("llama", None, {"rope_freqs.weight": np.ones(tiny_gguf.HEAD_DIM // 2, np.float32)}, (),
                   r'GGUF tensors this engine does not know: "rope_freqs\.weight" \(Llama-3\.1-style RoPE frequency '
                   r"factors are not supported\)"),
    "unknown_tensor": ("llama", None, {"blk.0.attn_q.bias": np.zeros(tiny_gguf.HEADS * tiny_gguf.HEAD_DIM, np.float32)},
                       (), r'GGUF tensors this engine does not know: "blk\.0\.attn_q\.bias"'),
    "sliding_window": ("llama", lambda w, a: w.add_uint32(f"{a}.attention.sliding_window", 64), None, (),
                       r"llama\.attention\.sliding_window is not supported for llama"),
    "partial_rope": ("llama", lambda w, a: w.add_uint32(f"{a}.rope.dimension_count", tiny_gguf.HEAD_DIM // 2), None,
                     ("rope.dimension_count",),
                     r"llama\.rope\.dimension_count differs from the head size \(partial RoPE is not supported\)"),
    "rope_scaling": ("llama", lambda w, a: w.add_string(f"{a}.rope.scaling.type", "yarn"), None, (),
                     r'llama\.rope\.scaling\.type "yarn" is not supported'),
    "value_length": ("llama", lambda w, a: w.add_uint32(f"{a}.attention.value_length", 2 * tiny_gguf.HEAD_DIM), None,
                     (), r"key and value head sizes differ; not supported"),
    "per_layer_kv_heads": ("llama", lambda w, a: w.add_array(f"{a}.attention.head_count_kv", [2, 1]), None,
                           ("attention.head_count_kv",), r"per-layer llama\.attention\.head_count_kv is not supported"),
    "kv_heads_divide": ("llama", lambda w, a: w.add_uint32(f"{a}.attention.head_count_kv", 3), None,
                        ("attention.head_count_kv",),
                        r"llama\.attention\.head_count_kv must divide llama\.attention\.head_count"),
    "odd_head_size": ("llama", lambda w, a: w.add_uint32(f"{a}.attention.key_length", 7), None,
                      ("rope.dimension_count",),
                      r"the head size must be even"),
    "zero_layers": ("llama", lambda w, a: w.add_uint32(f"{a}.block_count", 0), None, ("block_count",),
                    r"llama\.block_count must be positive, got 0"),
    "architecture": ("qwen2", None, None, (), r'general\.architecture is "qwen2"; supported: llama, llama4 \(dense\)'),
    "vocab_size": ("llama", lambda w, a: w.add_uint32(f"{a}.vocab_size", tiny_gguf.VOCAB + 1), None, (),
                   r"llama\.vocab_size differs from token_embd\.weight's rows"),
    "token_id": ("llama", lambda w, a: w.add_uint32("tokenizer.ggml.eot_token_id", 999), None, (),
                 r"tokenizer\.ggml\.eot_token_id 999 is outside the vocabulary"),
    "valid": ("llama", None, None, (), None),
}


def check(cmd: list[str], expected: str | None) -> str:
    """Runs cmd: success when expected is None, else exit status 1 with stderr matching it. Returns stdout."""
    print("$", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    print(r.stdout + r.stderr)
    for mark in SANITIZER_MARKS:
        if mark in r.stderr:
            sys.exit(f"sanitizer or abort output ({mark!r})")
    if expected is None:
        if r.returncode != 0:
            sys.exit(f"expected success, got exit status {r.returncode}")
        return r.stdout
    if r.returncode != 1:
        sys.exit(f"expected exit status 1, got {r.returncode}")
    if not re.search(expected, r.stderr):
        sys.exit(f"stderr does not match {expected!r}")
    return r.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mobilellm", required=True)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--kind", required=True, choices=sorted(KINDS))
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    arch, metadata, tensors, skip, expected = KINDS[args.kind]
    model = tiny_gguf.write(args.work / f"{args.kind}.gguf", arch, metadata, tensors, skip)
    text = args.work / f"{args.kind}.txt"
    text.write_text("a quick brown fox jumps over the lazy dog. " * 20)
    check([args.mobilellm, "run", "-m", str(model), "-p", "the thin", "-n", "4", "--temp", "0"], expected)
    check([args.mobilellm, "perplexity", "-m", str(model), "-f", str(text), "--ctx", "64", "-t", "1"], expected)
    print("ok")


if __name__ == "__main__":
    main()
