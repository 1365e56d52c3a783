"""A tiny random Llama as a GGUF file, written with the `gguf` package the way
convert_hf_to_gguf.py writes a Llama, with a byte-level BPE tokenizer inside so
that `run` and `perplexity` take it alone. The CLI error tests mutate it.

Every byte has a token and the merges only join letters, so a text of letters
other than t, h, i, n, e, r is one token per byte.
"""
from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

HIDDEN, HEADS, KV_HEADS, HEAD_DIM, FFN, LAYERS, CONTEXT = 32, 4, 2, 8, 48, 2, 256
MERGES = ["t h", "i n", "e r"]


def byte_symbols() -> list[str]:
    """GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map above U+0100."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    symbols, extra = {}, 0
    for b in range(256):
        if b in keep:
            symbols[b] = chr(b)
        else:
            symbols[b] = chr(256 + extra)
            extra += 1
    return [symbols[b] for b in range(256)]


TOKENS = byte_symbols() + [m.replace(" ", "") for m in MERGES] + ["<|endoftext|>"]
VOCAB = len(TOKENS)
EOS = VOCAB - 1


def write(path: Path, arch: str = "llama", metadata=None, tensors=None, skip=()) -> Path:
    """Writes the model; `metadata(w, arch)` adds or overrides keys, `tensors` adds {name: array},
    `skip` names standard metadata keys (suffixes after "<arch>.") left out."""
    rng = np.random.default_rng(0)
    w = gguf.GGUFWriter(str(path), arch)
    standard = {
        "context_length": CONTEXT, "embedding_length": HIDDEN, "block_count": LAYERS,
        "feed_forward_length": FFN, "attention.head_count": HEADS, "attention.head_count_kv": KV_HEADS,
        "rope.dimension_count": HEAD_DIM,
    }
    for key, value in standard.items():
        if key not in skip:
            w.add_uint32(f"{arch}.{key}", value)
    w.add_float32(f"{arch}.rope.freq_base", 10000.0)
    w.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", 1e-5)
    if metadata:
        metadata(w, arch)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt2")
    w.add_token_list(TOKENS)
    w.add_token_types([1] * (VOCAB - 1) + [3])
    w.add_token_merges(MERGES)
    w.add_bos_token_id(EOS)
    w.add_eos_token_id(EOS)
    w.add_add_bos_token(False)

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    w.add_tensor("token_embd.weight", normal(VOCAB, HIDDEN))
    w.add_tensor("output_norm.weight", np.ones(HIDDEN, np.float32))
    for layer in range(LAYERS):
        shapes = {"attn_norm": (HIDDEN,), "ffn_norm": (HIDDEN,), "attn_q": (HEADS * HEAD_DIM, HIDDEN),
                  "attn_k": (KV_HEADS * HEAD_DIM, HIDDEN), "attn_v": (KV_HEADS * HEAD_DIM, HIDDEN),
                  "attn_output": (HIDDEN, HEADS * HEAD_DIM), "ffn_gate": (FFN, HIDDEN), "ffn_up": (FFN, HIDDEN),
                  "ffn_down": (HIDDEN, FFN)}
        for name, shape in shapes.items():
            w.add_tensor(f"blk.{layer}.{name}.weight", np.ones(shape, np.float32) if len(shape) == 1 else normal(*shape))
    for name, value in (tensors or {}).items():
        w.add_tensor(name, value)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
