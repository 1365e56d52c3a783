"""The CLI's safety rules (issue 15), as a user meets them:
- no command writes over its input, or over an existing output without --force;
- a missing -m path, an endless tokenizer file, -t 1000 are clear errors;
- every command's --help shows its defaults;
- the tiny preset converts to q4g32;
- `verify` finds a flipped byte in tensor data and names the tensor;
  `run --verify` refuses the file, plain `run` (index checks only) loads it.
    cli_safety.py --mobilellm BIN --work DIR"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys


def run(args, ok=True):
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if ok and p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
    if not ok and p.returncode == 0:
        sys.exit(f"FAIL: {' '.join(args)} succeeded, expected an error")
    return p


def expect_error(args, text):
    p = run(args, ok=False)
    if text not in p.stderr:
        sys.exit(f"FAIL: {' '.join(args)}: expected {text!r} in:\n{p.stderr}")
    if "Segmentation" in p.stderr or p.returncode < 0:
        sys.exit(f"FAIL: {' '.join(args)} crashed")


def digest(path):
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(path)):
        for f in sorted(files):
            with open(os.path.join(root, f), "rb") as fh:
                h.update(f.encode() + fh.read())
    return h.hexdigest()


def first_tensor(path):
    """(name, offset) of the first tensor, read with the layout of docs/FORMAT.md."""
    with open(path, "rb") as f:
        head = f.read(48)
        index_offset, index_bytes = struct.unpack_from("<QQ", head, 24)
        f.seek(index_offset)
        index = json.loads(f.read(index_bytes))
    t = index["tensors"][0]
    return t["name"], t["offset"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mobilellm", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    b, work = a.mobilellm, a.work
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    ckpt = os.path.join(work, "ckpt")

    # make-random: a non-empty directory is not overwritten without --force.
    run([b, "make-random", "-o", ckpt, "--preset", "tiny"])
    before = digest(ckpt)
    expect_error([b, "make-random", "-o", ckpt, "--preset", "tiny", "--seed", "2"], "use --force")
    assert digest(ckpt) == before, "make-random changed the checkpoint it refused to overwrite"
    run([b, "make-random", "-o", ckpt, "--preset", "tiny", "--seed", "2", "--force"])
    assert digest(ckpt) != before, "--force did not rewrite the checkpoint"

    # convert: never over its own input, even with --force; an existing output only with --force.
    shard = os.path.join(ckpt, "model.safetensors")
    before = digest(ckpt)
    for extra in ([], ["--force"]):
        expect_error([b, "convert", "-m", ckpt, "-o", shard, "--scheme", "bf16", *extra], "is one of the inputs")
    assert digest(ckpt) == before, "convert damaged its input"
    out = os.path.join(work, "tiny.bf16")
    run([b, "convert", "-m", ckpt, "-o", out, "--scheme", "bf16"])
    expect_error([b, "convert", "-m", ckpt, "-o", out, "--scheme", "f32"], "exists; use --force")
    run([b, "convert", "-m", ckpt, "-o", out, "--scheme", "bf16", "--force"])
    leftovers = [f for f in os.listdir(work) if ".partial-" in f]
    assert not leftovers, leftovers

    # The tiny preset converts to q4g32 whole: every matrix width is a multiple of 32.
    q4 = os.path.join(work, "tiny.q4g32")
    p = run([b, "convert", "-m", ckpt, "-o", q4, "--scheme", "q4g32"])
    assert "kept in bf16" not in p.stderr, p.stderr
    run([b, "verify", "-m", q4])
    run([b, "run", "-m", q4, "--prompt-ids", "1 2 3", "-n", "2", "-t", "1", "--print-ids"])

    # logits: an existing output only with --force.
    logits = os.path.join(work, "logits.f32")
    run([b, "logits", "-m", out, "--ids", "1 2 3", "--out", logits, "-t", "1"])
    expect_error([b, "logits", "-m", out, "--ids", "1 2 3", "--out", logits, "-t", "1"], "use --force")
    run([b, "logits", "-m", out, "--ids", "1 2 3", "--out", logits, "-t", "1", "--force"])

    # Bad paths and numbers.
    expect_error([b, "run", "-m", os.path.join(work, "missing"), "--prompt-ids", "1"], "No such file or directory")
    p = subprocess.run([b, "tokenize", "--tokenizer", "/dev/zero"], input="hi", capture_output=True, text=True,
                       timeout=120)
    assert p.returncode != 0 and "too large for a tokenizer file" in p.stderr, p.stderr
    expect_error([b, "run", "-m", out, "--prompt-ids", "1", "-t", "1000"], "not in range 0 to 256")

    # --help shows the defaults.
    for cmd, default in [("run", "-t,--threads INT:INT in [0 - 256]=0"), ("serve", "--port INT:INT in [0 - 65535]=8080"),
                         ("convert", "--scheme TEXT:{q4g32,q4cw,q4_1,bf16,f32}=q4g32"), ("make-random", "--preset TEXT:{pro,tiny}=pro"),
                         ("chat", "--ctx INT:NONNEGATIVE=0"), ("bench", "--gen INT:POSITIVE=")]:
        text = run([b, cmd, "--help"]).stdout
        assert default in text, f"{cmd} --help lacks {default!r}:\n{text}"

    # verify: a flipped byte in tensor data is found and named.
    run([b, "verify", "-m", out])
    name, offset = first_tensor(out)
    with open(out, "r+b") as f:
        f.seek(offset + 5)
        byte = f.read(1)
        f.seek(offset + 5)
        f.write(bytes([byte[0] ^ 0x40]))
    expect_error([b, "verify", "-m", out], f'tensor "{name}" is corrupted')
    expect_error([b, "run", "-m", out, "--prompt-ids", "1 2", "-n", "1", "-t", "1", "--verify"], f'tensor "{name}"')
    run([b, "run", "-m", out, "--prompt-ids", "1 2", "-n", "1", "-t", "1", "--print-ids"])
    expect_error([b, "verify", "-m", ckpt], "not a mobilellm model file")
    print("cli safety: ok")


if __name__ == "__main__":
    main()
