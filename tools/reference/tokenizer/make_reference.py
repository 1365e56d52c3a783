#!/usr/bin/env python3
"""Writes the tokenizer test fixtures into a build directory (never into the
repo): a corpus and the ids that tiktoken and Hugging Face tokenizers give for
it. Skips the work when the fixtures exist for the same scripts and inputs.

  make_reference.py --out DIR --name small --bytes 300000
  make_reference.py --out DIR --name full --bytes 10500000

Files: NAME.docs.bin (u32 count, then u32 length + UTF-8 bytes per document),
NAME.{plain,special,hf}.ids (u32 count + i32 ids per document), and
tokenizer.json (the Hugging Face form of the same vocabulary).
  plain:   tiktoken, special-token text is plain text
  special: tiktoken, special-token text parsed (allowed_special="all")
  hf:      tokenizers with the tokenizer.json (always parses added tokens);
           with --hf-bytes only the first documents, the others marked absent
All three apply Meta's 400,000 / 25,000 chunking first."""
import argparse
import hashlib
import pathlib
import struct
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import corpus  # noqa: E402
import llama4_reference as ref  # noqa: E402


def write_docs(path, docs):
    with open(path, "wb") as f:
        f.write(struct.pack("<I", len(docs)))
        for d in docs:
            b = d.encode("utf-8")
            f.write(struct.pack("<I", len(b)))
            f.write(b)


def write_ids(path, all_ids):
    """None marks a document left out (count 0xFFFFFFFF)."""
    with open(path, "wb") as f:
        for ids in all_ids:
            if ids is None:
                f.write(struct.pack("<I", 0xFFFFFFFF))
                continue
            f.write(struct.pack("<I", len(ids)))
            f.write(struct.pack(f"<{len(ids)}i", *ids))


def fingerprint(args):
    h = hashlib.sha256()
    for p in sorted(pathlib.Path(__file__).parent.glob("*.py")):
        h.update(p.read_bytes())
    h.update(pathlib.Path(args.model).read_bytes())
    h.update(pathlib.Path(args.tsv).read_bytes())
    h.update(f"{args.bytes} {args.hf_bytes}".encode())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--model", required=True, help="tokenizer.model (tiktoken ranks)")
    ap.add_argument("--tsv", required=True, help="special_tokens.tsv")
    ap.add_argument("--hf-bytes", type=int, default=None,
                    help="compare Hugging Face only on the first documents up to this many bytes (it is slow)")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = out / f"{args.name}.stamp"
    fp = fingerprint(args)
    if stamp.exists() and stamp.read_text() == fp:
        print(f"{args.name}: fixtures up to date")
        return

    tokenizer_json = out / "tokenizer.json"
    if not tokenizer_json.exists() or not (out / "tokenizer.json.stamp").exists() or \
            (out / "tokenizer.json.stamp").read_text() != fp[:16] + "json":
        ref.build_hf_tokenizer_json(args.model, args.tsv, tokenizer_json)
        (out / "tokenizer.json.stamp").write_text(fp[:16] + "json")
    from tokenizers import Tokenizer
    hf = Tokenizer.from_file(str(tokenizer_json))
    enc = ref.tiktoken_encoding(args.model, args.tsv)

    docs = corpus.documents(args.bytes)
    write_docs(out / f"{args.name}.docs.bin", docs)
    write_ids(out / f"{args.name}.plain.ids",
              [ref.encode(lambda c: enc.encode(c, disallowed_special=()), d) for d in docs])
    write_ids(out / f"{args.name}.special.ids",
              [ref.encode(lambda c: enc.encode(c, allowed_special="all"), d) for d in docs])
    hf_ids, budget = [], args.hf_bytes if args.hf_bytes is not None else float("inf")
    for d in docs:
        budget -= len(d.encode())
        hf_ids.append(ref.encode(lambda c: hf.encode(c, add_special_tokens=False).ids, d) if budget >= 0 else None)
    write_ids(out / f"{args.name}.hf.ids", hf_ids)
    stamp.write_text(fp)
    print(f"{args.name}: {len(docs)} documents, {sum(len(d.encode()) for d in docs)} bytes")


if __name__ == "__main__":
    main()
