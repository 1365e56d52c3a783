"""Our safetensors reader and writer against the official Python package.

    python_interop.py SAFETENSORS_TOOL WORK_DIR

1. Files written by safetensors.torch (every dtype it has, scalars, empty and
   odd-sized tensors, metadata) read back bit-exactly through `dump`.
2. Our writer's output (`copy`) loads in safetensors (torch and numpy readers,
   whose Rust parser rejects gaps, overlaps and unpadded headers) bit-exactly.
3. Sharded checkpoints from transformers' save_pretrained and from
   huggingface_hub's save_torch_state_dict read back bit-exactly.
"""
import json
import pathlib
import shutil
import subprocess
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

tool, work = sys.argv[1], pathlib.Path(sys.argv[2])
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
g = torch.Generator().manual_seed(1234)

DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL", torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2",
    torch.uint16: "U16", torch.uint32: "U32", torch.uint64: "U64", torch.complex64: "C64",
}


def random_tensor(shape, dtype):
    # Random bits, not random values: every byte pattern (NaN payloads, subnormals) must survive.
    nbytes = torch.Size(shape).numel() * torch.empty((), dtype=dtype).element_size()
    raw = torch.randint(0, 256, (nbytes,), dtype=torch.uint8, generator=g)
    if dtype == torch.bool:
        raw &= 1
    return raw.view(dtype).reshape(shape)


def raw_bytes(t):
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def dump(path):
    out = subprocess.run([tool, "dump", str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def check_dump(path, expected, metadata):
    got = dump(path)
    assert got["metadata"] == metadata, (got["metadata"], metadata)
    assert set(got["tensors"]) == set(expected), sorted(set(got["tensors"]) ^ set(expected))
    for name, t in expected.items():
        entry = got["tensors"][name]
        assert entry["dtype"] == DTYPES[t.dtype], (name, entry["dtype"], t.dtype)
        assert entry["shape"] == list(t.shape), (name, entry["shape"], t.shape)
        assert bytes.fromhex(entry["hex"]) == raw_bytes(t), f"{path}: bytes of {name} differ"


# 1. The official writer -> our reader.
tensors = {f"t.{DTYPES[d].lower()}": random_tensor([3, 5], d) for d in DTYPES}
tensors.update({
    "odd.bf16": random_tensor([7], torch.bfloat16),  # leaves the next tensor 2-byte aligned only
    "scalar": random_tensor([], torch.float32),
    "empty": random_tensor([0, 4], torch.float16),
    "model.layers.0.self_attn.q_proj.weight": random_tensor([16, 8], torch.bfloat16),
})
metadata = {"format": "pt", "source": "python_interop"}
official = work / "official.safetensors"
save_file(tensors, official, metadata=metadata)
check_dump(official, tensors, metadata)

# 2. Our writer -> the official readers.
ours = work / "ours.safetensors"
subprocess.run([tool, "copy", str(official), str(ours)], check=True)
assert (8 + int.from_bytes(ours.read_bytes()[:8], "little")) % 8 == 0, "header not padded to 8 bytes"
loaded = load_file(ours)
assert set(loaded) == set(tensors)
for name, t in tensors.items():
    assert loaded[name].dtype == t.dtype and loaded[name].shape == t.shape, name
    assert raw_bytes(loaded[name]) == raw_bytes(t), f"bytes of {name} differ after our writer"
with safe_open(ours, framework="pt") as f:
    assert f.metadata() == metadata, f.metadata()
with safe_open(ours, framework="numpy") as f:
    assert f.get_tensor("t.f32").tobytes() == raw_bytes(tensors["t.f32"])

# 3. Sharded checkpoints -> our reader, compared with what each shard holds.
def check_sharded(directory, want_names):
    index = json.loads((directory / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) > 1, f"{directory}: expected several shards, got {shards}"
    expected = {}
    for shard in shards:
        expected.update(load_file(directory / shard))
    assert set(expected) == set(want_names), sorted(set(expected) ^ set(want_names))
    with safe_open(directory / shards[0], framework="pt") as f:
        first_metadata = f.metadata() or {}
    check_dump(directory, expected, first_metadata)
    check_dump(directory / "model.safetensors.index.json", expected, first_metadata)


from huggingface_hub import save_torch_state_dict  # noqa: E402

hub_dir = work / "hub_sharded"
hub_dir.mkdir()
state = {f"layers.{i}.weight": random_tensor([32, 32], torch.float32) for i in range(6)}
state["norm.weight"] = random_tensor([32], torch.bfloat16)
save_torch_state_dict(state, hub_dir, max_shard_size=10_000)
check_sharded(hub_dir, state.keys())

from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

torch.manual_seed(0)
config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False)
model = LlamaForCausalLM(config).to(torch.bfloat16)
hf_dir = work / "transformers_sharded"
model.save_pretrained(hf_dir, max_shard_size="20KB")
check_sharded(hf_dir, model.state_dict().keys())

print("python_interop: ok")
