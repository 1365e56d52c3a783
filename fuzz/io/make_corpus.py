"""Writes the seed corpus for fuzz_safetensors into corpus/: files from the
official safetensors package (every dtype family, metadata, scalars, empty
tensors) and a few hand-made near misses, so the fuzzer starts from inputs that
reach deep into the validation. Run with the project venv:
    .venv/bin/python fuzz/io/make_corpus.py
"""
import json
import pathlib
import struct

import torch
from safetensors.torch import save

out = pathlib.Path(__file__).parent / "corpus"
out.mkdir(exist_ok=True)
g = torch.Generator().manual_seed(0)


def rand(shape, dtype):
    return (torch.randn(shape, generator=g) * 4).to(dtype)


def raw(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


seeds = {
    "one_f32": save({"w": rand([2, 3], torch.float32)}),
    "dtypes": save({
        "f64": rand([2], torch.float64), "f16": rand([3], torch.float16), "bf16": rand([3], torch.bfloat16),
        "i64": rand([2], torch.int64), "i32": rand([1], torch.int32), "i16": rand([2], torch.int16),
        "i8": rand([3], torch.int8), "u8": rand([2], torch.uint8), "bool": rand([2], torch.float32) > 0,
        "f8": rand([2], torch.float8_e4m3fn), "f8b": rand([2], torch.float8_e5m2),
    }),
    "metadata": save({"a.weight": rand([4], torch.bfloat16)}, metadata={"format": "pt", "note": "x"}),
    "scalar_and_empty": save({"s": rand([], torch.float32), "e": rand([0, 4], torch.float16)}),
    "layer": save({
        "model.layers.0.self_attn.q_proj.weight": rand([4, 4], torch.bfloat16),
        "model.layers.0.self_attn.q_proj.weight_fake_quantizer.scale": rand([4, 1], torch.float32),
        "model.norm.weight": rand([4], torch.bfloat16),
    }),
    "f4": raw({"q": {"dtype": "F4", "shape": [2, 2], "data_offsets": [0, 2]}}, b"\x12\x34"),
    "overlap": raw({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                    "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}, bytes(6)),
    "past_end": raw({"a": {"dtype": "I32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8)),
    "huge_shape": raw({"a": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}, bytes(8)),
    "negative_dim": raw({"a": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [0, 8]}}, bytes(8)),
    "bad_metadata": raw({"__metadata__": {"k": 1}, "a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}, b"\0"),
}
for name, blob in seeds.items():
    (out / name).write_bytes(blob)
