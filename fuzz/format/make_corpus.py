#!/usr/bin/env python3
"""Seed corpus for fuzz_model_file: small valid model files (docs/FORMAT.md).

    python3 fuzz/format/make_corpus.py fuzz/format/corpus
"""
import json
import struct
import sys
from pathlib import Path


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def model_file(tensors: list[tuple[str, str, list[int], bytes]], blobs: list[tuple[str, bytes]],
               kv_cache: str | None = None) -> bytes:
    data = bytearray(64)
    index = {"scheme": "q4g32", "config": {"hidden_size": 64}, "generation_config": None,
             "source": {"checkpoint": "seed"}, "tensors": [], "blobs": []}
    if kv_cache is not None:  # files written before the field existed have none
        index["kv_cache"] = kv_cache
    for name, kind, shape, payload in tensors:
        data += bytes(-len(data) % 4096)
        index["tensors"].append({"name": name, "type": kind, "shape": shape, "offset": len(data),
                                 "bytes": len(payload), "crc32c": crc32c(payload)})
        data += payload
    for name, payload in blobs:
        data += bytes(-len(data) % 4096)
        index["blobs"].append({"name": name, "offset": len(data), "bytes": len(payload), "crc32c": crc32c(payload)})
        data += payload
    text = json.dumps(index).encode()
    offset = len(data)
    data += text
    data[0:64] = b"MOBILELM" + struct.pack("<IIQQQI", 1, 64, len(data), offset, len(text), crc32c(text)) + bytes(20)
    return bytes(data)


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    norm = struct.pack("<4f", 1, 1, 1, 1)
    q4 = bytes([0x88] * 144) + bytes(8 * 4)  # one q4g32 tile × one group + row terms
    (out / "minimal").write_bytes(model_file([("model.norm.weight", "f32", [4], norm)], []))
    (out / "q4_and_blob").write_bytes(model_file(
        [("model.norm.weight", "f32", [4], norm), ("m", "q4g32", [8, 32], q4), ("b", "bf16", [2, 2], bytes(8))],
        [("tokenizer.json", b'{"model": {}}')], kv_cache="int8"))


if __name__ == "__main__":
    main()
