"""One malformed copy of a tiny checkpoint per kind: `mobilellm logits` must
refuse it with exit status 1 and the kind's own message, without a crash, a
signal or a sanitizer report.

    malformed_checkpoint.py --mobilellm BIN --base DIR --work DIR --kind KIND

BASE is a checkpoint from `mobilellm make-random --preset tiny`. Kind
"rewritten" is the control: the header is re-serialized unchanged and the
copy must load, which shows the rewriting itself is sound.
"""
import argparse
import json
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
                   "SUMMARY:", "terminate called")


def read_checkpoint(path):
    blob = path.read_bytes()
    (n,) = struct.unpack_from("<Q", blob)
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def write_checkpoint(path, header, area):
    # data_offsets count from the end of the header, so the header may change length freely.
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + area)


def tensors_of(header):
    return {k: v for k, v in header.items() if k != "__metadata__"}


def by_offset(header):
    return sorted(tensors_of(header).items(), key=lambda kv: kv[1]["data_offsets"][0])


def truncated(ck):
    f = ck / "model.safetensors"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    return r'model\.safetensors: tensor "[^"]+": data_offsets \[\d+, \d+\) end beyond the data area \(\d+ bytes\)'


def bad_config_json(ck):
    f = ck / "config.json"
    f.write_text(f.read_text()[:-40])
    return r"config\.json: invalid JSON: .*parse error"


def config_number_overflow(ck):
    # Valid JSON syntax, but a number no double holds: the parser's other error kind.
    f = ck / "config.json"
    f.write_text(re.sub(r'"rms_norm_eps":\s*[^,}]+', '"rms_norm_eps": 1e999', f.read_text(), count=1))
    return r"config\.json: invalid JSON: .*number overflow"


def edit_header(ck, edit):
    f = ck / "model.safetensors"
    header, area = read_checkpoint(f)
    expected = edit(header, len(area))
    write_checkpoint(f, header, area)
    return expected


def wrong_shape(ck):
    def edit(header, _):
        # Swapping the dims of a non-square matrix keeps the byte size: only the model can tell.
        name, entry = next((n, e) for n, e in by_offset(header) if len(e["shape"]) == 2 and e["shape"][0] != e["shape"][1])
        a, b = entry["shape"]
        entry["shape"] = [b, a]
        return (rf'tensor "{re.escape(name)}" in \S*model\.safetensors has shape \[{b}, {a}\], '
                rf"expected \[{a}, {b}\] from config\.json")
    return edit_header(ck, edit)


def unknown_dtype(ck):
    def edit(header, _):
        name, entry = by_offset(header)[0]
        entry["dtype"] = "Q4_0"
        return rf'model\.safetensors: tensor "{re.escape(name)}": unknown dtype "Q4_0"'
    return edit_header(ck, edit)


def overlapping_offsets(ck):
    def edit(header, _):
        (first, a), (second, b) = by_offset(header)[:2]
        shift = min(b["data_offsets"][0] - a["data_offsets"][0], 8)
        b["data_offsets"] = [b["data_offsets"][0] - shift, b["data_offsets"][1] - shift]
        begin, end = b["data_offsets"]
        return (rf'model\.safetensors: tensor "{re.escape(second)}": data_offsets \[{begin}, {end}\) overlap tensor '
                rf'"{re.escape(first)}" \[{a["data_offsets"][0]}, {a["data_offsets"][1]}\)')
    return edit_header(ck, edit)


def out_of_range_offsets(ck):
    def edit(header, area_size):
        name, entry = by_offset(header)[-1]
        begin, end = entry["data_offsets"]
        entry["data_offsets"] = [begin + area_size, end + area_size]
        return (rf'model\.safetensors: tensor "{re.escape(name)}": data_offsets \[{begin + area_size}, '
                rf"{end + area_size}\) end beyond the data area \({area_size} bytes\)")
    return edit_header(ck, edit)


def missing_tensor(ck):
    def edit(header, _):
        del header["model.norm.weight"]
        return r'checkpoint is missing tensor "model\.norm\.weight" \(expected shape \[\d+\]\)'
    return edit_header(ck, edit)


def missing_shard(ck):
    # Split into two shards with an index, then lose the second shard.
    f = ck / "model.safetensors"
    header, area = read_checkpoint(f)
    f.unlink()
    entries = by_offset(header)
    half = len(entries) // 2
    weight_map = {}
    for i, part in enumerate((entries[:half], entries[half:]), start=1):
        shard = f"model-0000{i}-of-00002.safetensors"
        base = part[0][1]["data_offsets"][0]
        sub = {"__metadata__": {"format": "pt"}}
        for name, entry in part:
            begin, end = entry["data_offsets"]
            sub[name] = dict(entry, data_offsets=[begin - base, end - base])
            weight_map[name] = shard
        write_checkpoint(ck / shard, sub, area[base:part[-1][1]["data_offsets"][1]])
    (ck / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (ck / "model-00002-of-00002.safetensors").unlink()
    return (r'model\.safetensors\.index\.json: shard "model-00002-of-00002\.safetensors" \(holding tensor "[^"]+"\) '
            r"not found")


def rewritten(ck):
    edit_header(ck, lambda header, _: None)
    return None


KINDS = {f.__name__: f for f in (truncated, bad_config_json, config_number_overflow, wrong_shape, unknown_dtype, overlapping_offsets,
                                 out_of_range_offsets, missing_tensor, missing_shard, rewritten)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mobilellm", required=True)
    p.add_argument("--base", required=True, type=Path)
    p.add_argument("--work", required=True, type=Path)
    p.add_argument("--kind", required=True, choices=sorted(KINDS))
    args = p.parse_args()

    ck = args.work / args.kind
    shutil.rmtree(ck, ignore_errors=True)
    shutil.copytree(args.base, ck)
    expected = KINDS[args.kind](ck)

    run = subprocess.run([args.mobilellm, "logits", "-m", str(ck), "--ids", "1 2 3", "--out", str(ck / "logits.bin")],
                         capture_output=True, text=True, errors="replace", timeout=240)
    out = run.stdout + run.stderr
    print(f"exit status {run.returncode}\n{out}")
    problems = []
    if run.returncode < 0:
        problems.append(f"killed by signal {-run.returncode}")
    for mark in SANITIZER_MARKS:
        if mark in out:
            problems.append(f"output contains {mark!r}")
    if expected is None:
        if run.returncode != 0:
            problems.append("the unchanged, re-serialized checkpoint was refused")
    else:
        if run.returncode != 1:
            problems.append(f"exit status {run.returncode}, expected 1")
        if not re.search(r"^error: .*" + expected, run.stderr, re.MULTILINE):
            problems.append(f"stderr does not match {expected!r}")
    if problems:
        print(f"FAIL {args.kind}: " + "; ".join(problems))
        return 1
    shutil.rmtree(ck)
    print(f"ok {args.kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
