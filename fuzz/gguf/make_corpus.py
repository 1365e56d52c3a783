"""Writes the seed corpus for fuzz_gguf into corpus/: small files from the
official gguf package's GGUFWriter (every metadata value type, every tensor
type the reader supports, a custom alignment, version 2, a tokenizer-like
vocabulary) and a few hand-made near misses, so the fuzzer starts from inputs
that reach deep into the validation. Run with the project venv:
    .venv/bin/python fuzz/gguf/make_corpus.py
"""
import pathlib
import struct
import tempfile

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V
from gguf import GGUFWriter
from gguf.constants import GGML_QUANT_SIZES

out = pathlib.Path(__file__).parent / "corpus"
out.mkdir(exist_ok=True)
rng = np.random.default_rng(0)


def gguf_bytes(build) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d) / "seed.gguf"
        w = GGUFWriter(str(path), "llama")
        build(w)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        return path.read_bytes()


def blocks(qtype, rows, cols):
    block, size = GGML_QUANT_SIZES[qtype]
    return rng.integers(0, 256, size=(rows, cols // block * size), dtype=np.uint8)


def one_tensor(qtype, rows, cols):
    def build(w):
        w.add_uint32("llama.block_count", 1)
        if qtype == Q.F32:
            w.add_tensor("w", rng.standard_normal((rows, cols)).astype(np.float32))
        elif qtype == Q.F16:
            w.add_tensor("w", rng.standard_normal((rows, cols)).astype(np.float16))
        else:
            w.add_tensor("w", blocks(qtype, rows, cols), raw_dtype=qtype)
    return gguf_bytes(build)


def metadata(w):
    w.add_uint8("u8", 1)
    w.add_int8("i8", -1)
    w.add_uint16("u16", 2)
    w.add_int16("i16", -2)
    w.add_uint32("u32", 3)
    w.add_int32("i32", -3)
    w.add_float32("f32", 0.5)
    w.add_bool("bool", True)
    w.add_string("string", "text")
    w.add_uint64("u64", 2**64 - 1)
    w.add_int64("i64", -4)
    w.add_float64("f64", 0.25)
    w.add_key_value("a.u8", [1, 2], V.ARRAY, sub_type=V.UINT8)
    w.add_key_value("a.i32", [1, -2], V.ARRAY, sub_type=V.INT32)
    w.add_key_value("a.f32", [0.5, 1.5], V.ARRAY, sub_type=V.FLOAT32)
    w.add_key_value("a.bool", [True, False], V.ARRAY, sub_type=V.BOOL)
    w.add_key_value("a.string", ["a", ""], V.ARRAY, sub_type=V.STRING)
    w.add_key_value("a.u64", [2**64 - 1], V.ARRAY, sub_type=V.UINT64)


def vocabulary(w):
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_key_value("tokenizer.ggml.tokens", ["<s>", "a", "b", "ab"], V.ARRAY, sub_type=V.STRING)
    w.add_key_value("tokenizer.ggml.scores", [0.0, -1.0, -2.0, -3.0], V.ARRAY, sub_type=V.FLOAT32)
    w.add_key_value("tokenizer.ggml.token_type", [3, 1, 1, 1], V.ARRAY, sub_type=V.INT32)
    w.add_key_value("tokenizer.ggml.merges", ["a b"], V.ARRAY, sub_type=V.STRING)
    w.add_uint32("tokenizer.ggml.bos_token_id", 0)


def aligned(w):
    w.add_custom_alignment(64)
    w.add_tensor("a", blocks(Q.Q4_1, 2, 32), raw_dtype=Q.Q4_1)
    w.add_tensor("b", rng.standard_normal(3).astype(np.float32))


def header(n_tensors, n_kv, version=3):
    return b"GGUF" + struct.pack("<Iqq", version, n_tensors, n_kv)


def string(s: bytes):
    return struct.pack("<Q", len(s)) + s


def tensor_info(name, ne, qtype, offset):
    return string(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}q", *ne) + struct.pack("<IQ", qtype, offset)


def padded(b: bytes, alignment=32):
    return b + bytes(-len(b) % alignment)


seeds = {
    "f32": one_tensor(Q.F32, 2, 3),
    "f16": one_tensor(Q.F16, 1, 5),
    "bf16": one_tensor(Q.BF16, 2, 2),
    "q4_0": one_tensor(Q.Q4_0, 2, 32),
    "q4_1": one_tensor(Q.Q4_1, 1, 64),
    "q8_0": one_tensor(Q.Q8_0, 2, 32),
    "q4_k": one_tensor(Q.Q4_K, 1, 256),
    "q5_k": one_tensor(Q.Q5_K, 1, 256),
    "q6_k": one_tensor(Q.Q6_K, 1, 256),
    "metadata": gguf_bytes(metadata),
    "vocabulary": gguf_bytes(vocabulary),
    "aligned64": gguf_bytes(aligned),
    "no_tensors": header(0, 1) + string(b"general.name") + struct.pack("<I", 8) + string(b"x"),
    "version2": header(1, 0, 2) + padded(tensor_info(b"w", [4], 0, 0)) + bytes(16),
    "four_dims": header(1, 0) + padded(tensor_info(b"w", [32, 1, 2, 1], 8, 0)) + bytes(68),
    "nested_array": header(0, 1) + string(b"k") + struct.pack("<IIQIQI", 9, 9, 1, 4, 1, 7),
    "overlap": header(2, 0) + padded(tensor_info(b"a", [16], 0, 0) + tensor_info(b"b", [4], 0, 32)) + bytes(64),
    "misaligned": header(1, 0) + padded(tensor_info(b"a", [4], 0, 4)) + bytes(32),
    "unsupported_type": header(1, 0) + padded(tensor_info(b"a", [32], 6, 0)) + bytes(32),
    "bad_alignment": header(0, 1) + string(b"general.alignment") + struct.pack("<II", 4, 48),
}
for name, blob in seeds.items():
    (out / name).write_bytes(blob)
