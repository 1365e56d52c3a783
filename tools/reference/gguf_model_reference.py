#!/usr/bin/env python3
"""Independent references for a real GGUF model, computed by transformers on its own reading of the
file (`from_pretrained(dir, gguf_file=...)`: the gguf package dequantizes, transformers un-permutes
q/k and runs LlamaForCausalLM in float32) and tokenized by the `tokenizers` library on the file's
vocabulary with the model's own pre-tokenizer (tokenizer/gguf_reference.py: transformers' GGUF
conversion does not know SmolLM2's `smollm` digit split, so its tokens differ around digits).

    gguf_model_reference.py logits GGUF TEXT --tokens N --ids-out F --logits-out F
    gguf_model_reference.py perplexity GGUF TEXT --ctx N --chunks K

logits:      the first N tokens of TEXT; writes the ids (one line, spaces) and the logits as raw
             little-endian float32 [N, vocab] (`mobilellm logits --out` format).
perplexity:  llama.cpp's llama-perplexity semantics (docs/PERPLEXITY.md): the whole text tokenized
             once, BOS per the GGUF's tokenizer.ggml.add_bos_token replacing each chunk's first
             token, non-overlapping chunks of ctx tokens, the second half of each scored; prints
             "PPL = <value>" and the token count.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import gguf  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "tokenizer"))
from gguf_reference import bpe_reference  # noqa: E402


def load(path: Path):
    pre = gguf.GGUFReader(str(path)).fields["tokenizer.ggml.pre"].contents()
    tok = bpe_reference(path, pre)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32).eval()
    model.config._attn_implementation = "eager"
    return tok, model


def add_bos(path: Path) -> tuple[bool, int]:
    r = gguf.GGUFReader(str(path))
    def field(key):
        f = r.fields.get(key)
        return None if f is None else f.contents()
    return bool(field("tokenizer.ggml.add_bos_token")), int(field("tokenizer.ggml.bos_token_id") or -1)


def encode(tok, text: str) -> list[int]:
    return tok.encode(text, add_special_tokens=False).ids


def cmd_logits(a) -> int:
    tok, model = load(a.gguf)
    ids = encode(tok, Path(a.text).read_text(encoding="utf-8", errors="replace"))[: a.tokens]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float().numpy()
    Path(a.ids_out).write_text(" ".join(map(str, ids)) + "\n")
    logits.astype("<f4").tofile(a.logits_out)
    print(f"{len(ids)} tokens, vocab {logits.shape[1]}, max|logit| {np.abs(logits).max():.3f}")
    return 0


def cmd_perplexity(a) -> int:
    tok, model = load(a.gguf)
    bos_first, bos = add_bos(a.gguf)
    ids = encode(tok, Path(a.text).read_text(encoding="utf-8", errors="replace"))
    if bos_first:
        ids = [bos] + ids
    n_ctx = a.ctx
    chunks = len(ids) // n_ctx if a.chunks < 0 else min(a.chunks, len(ids) // n_ctx)
    first = n_ctx // 2
    nll = []
    for c in range(chunks):
        chunk = ids[c * n_ctx:(c + 1) * n_ctx]
        if bos_first:
            chunk[0] = bos
        with torch.no_grad():
            logits = model(torch.tensor([chunk])).logits[0].double()
        lp = torch.log_softmax(logits, dim=-1)
        for j in range(first, n_ctx - 1):
            nll.append(-float(lp[j, chunk[j + 1]]))
    ppl = float(np.exp(np.mean(nll)))
    print(f"tokens {len(ids)} chunks {chunks} scored {len(nll)}")
    print(f"PPL = {ppl:.6f}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    lg = sub.add_parser("logits")
    lg.add_argument("gguf", type=Path)
    lg.add_argument("text")
    lg.add_argument("--tokens", type=int, default=128)
    lg.add_argument("--ids-out", required=True)
    lg.add_argument("--logits-out", required=True)
    pp = sub.add_parser("perplexity")
    pp.add_argument("gguf", type=Path)
    pp.add_argument("text")
    pp.add_argument("--ctx", type=int, default=256)
    pp.add_argument("--chunks", type=int, default=-1)
    a = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    return cmd_logits(a) if a.cmd == "logits" else cmd_perplexity(a)


if __name__ == "__main__":
    sys.exit(main())
