#!/usr/bin/env python3
"""For code points across Unicode, asks tiktoken's own regex engine whether
each probe string below is a single pre-tokenizer piece, so the test can
compare the hand-written splitter's character classes with tiktoken's on every
code point. Also records Python's str.isspace() (used by the chunking rule).

The trick: an Encoding whose ranks are the 256 bytes plus every probe string
returns the probe's own id exactly when the regex keeps the probe whole.

Output (little-endian): u32 n, then n x (u32 code point, u16 probe bits,
u8 isspace). Probe k's bit is 1 << k."""
import argparse
import hashlib
import pathlib
import struct
import sys

import tiktoken

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from llama4_reference import PATTERN  # noqa: E402

# Must match kProbes in tests/tokenizer/char_class_test.cpp.
PROBES = ["a{}", "A{}", "{}A", "{}Ab", "1{}", "\n{}\n", "!!{}", "{}'s", " {}a"]


def code_points():
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        # Planes 0, 1 and 14 in full; the CJK planes 2 and 3 (uniform blocks)
        # in full where Unicode 15/16 added characters, else every 16th; the
        # rest, unassigned or private use, sampled.
        if (cp < 0x20000 or 0xE0000 <= cp < 0xE1000 or 0x2EBF0 <= cp <= 0x2EE5D or 0x31350 <= cp <= 0x323AF
                or (cp < 0x40000 and cp % 16 == 0) or cp % 251 == 0):
            yield cp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    stamp = out.with_suffix(".stamp")
    fingerprint = hashlib.sha256(pathlib.Path(__file__).read_bytes() + tiktoken.__version__.encode()).hexdigest()
    if out.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        print("char probes up to date")
        return
    cps = list(code_points())
    bits = [0] * len(cps)
    base = {bytes([b]): b for b in range(256)}
    for k, probe in enumerate(PROBES):
        strings = [probe.format(chr(cp)) for cp in cps]
        ranks = dict(base)
        for s in strings:
            ranks.setdefault(s.encode("utf-8"), len(ranks))
        enc = tiktoken.Encoding(f"probe{k}", pat_str=PATTERN, mergeable_ranks=ranks, special_tokens={})
        for i, ids in enumerate(enc.encode_ordinary_batch(strings, num_threads=2)):
            if len(ids) == 1 and ids[0] == ranks[strings[i].encode("utf-8")]:
                bits[i] |= 1 << k
    with open(args.out, "wb") as f:
        f.write(struct.pack("<I", len(cps)))
        for cp, b in zip(cps, bits):
            f.write(struct.pack("<IHB", cp, b, chr(cp).isspace()))
    stamp.write_text(fingerprint)
    print(f"{len(cps)} code points, {len(PROBES)} probes")


if __name__ == "__main__":
    main()
