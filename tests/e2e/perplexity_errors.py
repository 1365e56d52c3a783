"""`mobilellm perplexity` on inputs it must refuse: a text shorter than two
contexts, and a --kl-divergence-base file that is missing, empty, not one,
truncated, implausible, crafted so its size arithmetic wraps, or made for
another vocabulary or text. Each exits 1 with its own message, never a crash.

    perplexity_errors.py --mobilellm BIN --work DIR --kind KIND

Kind "kl_valid" is the control: a base written and compared with the same model
(KL divergence 0, the same top token everywhere). The model is tiny_gguf.py's.
"""
import argparse
import re
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiny_gguf  # noqa: E402
from gguf_refusals import check as run  # noqa: E402

CTX = 16
MAGIC = b"MLLMKLD\x01"  # src/eval/perplexity.cpp kMagic
HEADER = struct.Struct("<8sqqq")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mobilellm", required=True)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--kind", required=True)
    args = ap.parse_args()
    work = args.work / args.kind
    work.mkdir(parents=True, exist_ok=True)
    model = tiny_gguf.write(work / "model.gguf")
    text = work / "text.txt"
    text.write_text("a quick brown fox jumps over the lazy dog. " * 8)
    other = work / "other.txt"
    other.write_text("pack my box with five dozen liquor jugs. " * 8)
    base = work / "base.kld"
    ppl = [args.mobilellm, "perplexity", "-m", str(model), "-t", "1"]

    def write_base(text_file=text):
        base.unlink(missing_ok=True)
        run(ppl + ["-f", str(text_file), "--ctx", str(CTX), "--chunks", "3", "--kl-divergence-base", str(base)], None)

    def compare(expected):
        return run(ppl + ["-f", str(text), "--kl-divergence-base", str(base), "--kl-divergence"], expected)

    not_base = re.escape(str(base)) + ": not a --kl-divergence-base file: "
    kind = args.kind
    if kind == "short_text":
        # 'z' has no merge and the model adds no BOS: one token per byte.
        short = work / "short.txt"
        short.write_text("z" * (2 * CTX - 1))
        run(ppl + ["-f", str(short), "--ctx", str(CTX)],
            rf"the text has {2 * CTX - 1} tokens; perplexity with a context of {CTX} needs at least {2 * CTX}")
        short.write_text("z" * (2 * CTX))  # exactly two contexts: two chunks
        out = run(ppl + ["-f", str(short), "--ctx", str(CTX)], None)
        assert "Final estimate: PPL = " in out, out
    elif kind == "kl_valid":
        write_base()
        out = compare(None)
        kld = float(re.search(r"Mean    KLD: +([-0-9.]+)", out).group(1))
        same = re.search(r"Same top p: +([0-9.]+)", out)
        print(f"mean KLD {kld}, same top {same.group(1) if same else None}")
        if not (abs(kld) < 1e-3 and same and float(same.group(1)) == 100.0):
            sys.exit("the model against its own base must give KLD 0 and the same top token everywhere")
    elif kind == "kl_needs_base":
        run(ppl + ["-f", str(text), "--kl-divergence"], r"--kl-divergence needs --kl-divergence-base FILE")
    elif kind == "kl_missing_file":
        compare(re.escape(str(base)) + r".*(No such file|cannot open|does not exist)")
    elif kind == "kl_empty":
        base.write_bytes(b"")
        compare(not_base + "bad magic")
    elif kind == "kl_bad_magic":
        write_base()
        blob = bytearray(base.read_bytes())
        blob[0:4] = b"GGUF"
        base.write_bytes(bytes(blob))
        compare(not_base + "bad magic")
    elif kind == "kl_truncated":
        write_base()
        blob = base.read_bytes()
        base.write_bytes(blob[: len(blob) - 7])
        compare(not_base + rf"size {len(blob) - 7} bytes, the header implies {len(blob)}")
    elif kind == "kl_implausible":
        base.write_bytes(HEADER.pack(MAGIC, 2, tiny_gguf.VOCAB, 1))
        compare(not_base + "implausible dimensions")
    elif kind == "kl_wrapping":
        # 32 + 4·chunks·n_ctx + rows·(8 + 2·vocab) is exactly 2^64 + 32 here: unchecked,
        # the header alone would pass the size test and the reader copy terabytes.
        n_ctx, vocab, chunks = 242739, 9059238, 1 << 24
        rows = chunks * (n_ctx - 1 - n_ctx // 2)
        assert (HEADER.size + 4 * chunks * n_ctx + rows * (8 + 2 * vocab)) % (1 << 64) == HEADER.size
        base.write_bytes(HEADER.pack(MAGIC, n_ctx, vocab, chunks))
        compare(not_base + rf"n_ctx {n_ctx}, {chunks} chunks and vocabulary {vocab} imply more bytes than a file holds")
    elif kind == "kl_vocab":
        # A well-formed base for a 100-token vocabulary, over the same tokens.
        write_base()
        blob = base.read_bytes()
        _, n_ctx, _, chunks = HEADER.unpack_from(blob)
        tokens = blob[HEADER.size:HEADER.size + 4 * n_ctx * chunks]
        rows = chunks * (n_ctx - 1 - n_ctx // 2)
        base.write_bytes(HEADER.pack(MAGIC, n_ctx, 100, chunks) + tokens + bytes(rows * (8 + 2 * 100)))
        compare(rf"{re.escape(str(base))}: base vocabulary 100 differs from the model's {tiny_gguf.VOCAB}")
    elif kind == "kl_other_text":
        write_base(other)
        compare(rf"{re.escape(str(text))}: its tokens differ from those scored in {re.escape(str(base))}")
    else:
        sys.exit(f"unknown kind {kind}")
    print("ok")


if __name__ == "__main__":
    main()
