#!/usr/bin/env python3
"""Tiny random Llama checkpoints in the forms users hold them, with reference logits from transformers.

    .venv/bin/python tools/reference/make_llama_fixtures.py OUT_DIR

Writes the same manifest format as make_fixtures.py (tests/golden/compare.py reads both):
  hf_llama           LlamaForCausalLM.save_pretrained (safetensors, rotate-half q/k rows),
                     9 query / 3 KV heads as SmolLM2, RoPE base 1e5, tied embeddings
  gguf_llama_f32     the same weights as a GGUF file written with the `gguf` package the way
                     llama.cpp's convert_hf_to_gguf.py writes a Llama (q/k rows permuted to
                     interleaved pairs, llama.* metadata), F32 tensors
  gguf_llama_quant   a Llama GGUF whose matrices are Q8_0, Q4_0, Q4_1, Q4_K, Q5_K and Q6_K blocks
                     (quantized by gguf.quants where it can, else random valid blocks), untied output;
                     the reference model holds gguf.quants.dequantize of those blocks
  llama4_dense       Llama4ForCausalLM without experts, in llama.cpp's reading of a llama4 GGUF
                     (no RoPE on every 4th layer, RoPE layers chunked by 8192 with L2 qk-norm,
                     attention temperature), as Hugging Face safetensors
  gguf_llama4_dense  the same weights as a GGUF written following convert_hf_to_gguf.py's Llama-4
                     mapping (no q/k permutation); its reference logits are llama4_dense's, so the
                     engine must give the same logits from both files
Reference: transformers in float32 with eager attention, from exactly the stored values.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import gguf  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import Llama4ForCausalLM, Llama4TextConfig, LlamaConfig, LlamaForCausalLM  # noqa: E402

TOLERANCE = 1e-4
MIN_GAP = 2 * TOLERANCE


def permute_to_interleaved(w: np.ndarray, n_head: int) -> np.ndarray:
    """convert_hf_to_gguf.py's LlamaModel.permute: rotate-half row order -> adjacent pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_from_interleaved(w: np.ndarray, n_head: int) -> np.ndarray:
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


GGUF_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
LAYER_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "feed_forward.gate_proj.weight": "ffn_gate.weight",
    "feed_forward.up_proj.weight": "ffn_up.weight",
    "feed_forward.down_proj.weight": "ffn_down.weight",
}


def gguf_name(hf: str) -> str:
    if hf in GGUF_NAMES:
        return GGUF_NAMES[hf]
    parts = hf.split(".", 3)  # model.layers.N.rest
    return f"blk.{parts[2]}.{LAYER_NAMES[parts[3]]}"


def write_metadata(w: gguf.GGUFWriter, arch: str, cfg, n_ff: int) -> None:
    w.add_name("fixture")
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_dimension_count(cfg.head_dim)
    w.add_rope_freq_base(cfg.rope_parameters["rope_theta"])
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_vocab_size(cfg.vocab_size)
    w.add_key_length(cfg.head_dim)
    w.add_value_length(cfg.head_dim)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    if arch == "llama4":
        w.add_expert_count(0)
        w.add_interleave_moe_layer_step(0)
        w.add_expert_feed_forward_length(cfg.intermediate_size)


def write_gguf(path: Path, arch: str, cfg, state: dict[str, np.ndarray], n_ff: int, permute: bool,
               qtypes: dict[str, gguf.GGMLQuantizationType] | None = None) -> dict[str, np.ndarray]:
    """Writes the GGUF; returns the HF state dict of the values it stores (dequantized, HF row order)."""
    w = gguf.GGUFWriter(str(path), arch)
    write_metadata(w, arch, cfg, n_ff)
    stored = {}
    for name, t in state.items():
        t = t.astype(np.float32)
        heads = cfg.num_attention_heads if "q_proj" in name else cfg.num_key_value_heads
        rope_rows = permute and ("q_proj" in name or "k_proj" in name)
        g = permute_to_interleaved(t, heads) if rope_rows else t
        qtype = (qtypes or {}).get(name)
        if qtype is None:
            w.add_tensor(gguf_name(name), g)
            back = g
        else:
            blocks = quantize_or_random(g, qtype, seed=len(stored))
            w.add_tensor(gguf_name(name), blocks.reshape(g.shape[0], -1), raw_dtype=qtype)
            back = gguf.quants.dequantize(blocks, qtype).reshape(g.shape)
        stored[name] = unpermute_from_interleaved(back, heads) if rope_rows else back
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return stored


def quantize_or_random(x: np.ndarray, qtype, seed: int) -> np.ndarray:
    try:
        return gguf.quants.quantize(x, qtype)
    except NotImplementedError:
        # No quantizer in the gguf package: random blocks with a sane fp16 scale in every block.
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        n_blocks = x.size // block
        rng = np.random.default_rng(1000 + seed)
        raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
        scale = np.array([0.002], dtype=np.float16).view(np.uint8)
        if qtype == gguf.GGMLQuantizationType.Q6_K:  # d is the last 2 bytes
            raw[:, -2:] = scale
        else:  # Q4_K / Q5_K: d, dmin first
            raw[:, 0:2] = scale
            raw[:, 2:4] = np.array([0.001], dtype=np.float16).view(np.uint8)
        return raw.reshape(x.shape[0], -1)


def reference(model, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float()


def top2_gap(logits: torch.Tensor) -> float:
    top = logits.topk(2, dim=-1).values
    return float((top[:, 0] - top[:, 1]).min() / logits.abs().max())


def greedy(model, ids: list[int], n: int) -> list[int]:
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=n, do_sample=False, eos_token_id=None,
                             pad_token_id=0, min_new_tokens=n)
    return out[0, len(ids):].tolist()


def prompt_with_gap(model, vocab: int, length: int, seed: int) -> tuple[list[int], torch.Tensor]:
    """A random prompt whose every reference argmax is separated from the runner-up by MIN_GAP."""
    rng = np.random.default_rng(seed)
    for _ in range(200):
        ids = rng.integers(3, vocab, size=length).tolist()
        ref = reference(model, ids)
        if top2_gap(ref) >= MIN_GAP:
            return ids, ref
    raise SystemExit("no prompt with a clear argmax at every position")


def entry(name, description, covers, checkpoint, ids, ref, out: Path, greedy_cases, ref_name=None):
    ref_file = f"ref/{ref_name or name}.logits.f32"
    (out / "ref").mkdir(exist_ok=True)
    ref.numpy().astype("<f4").tofile(out / ref_file)
    return {"name": name, "description": description, "covers": covers, "checkpoint": checkpoint,
            "prompt_ids": ids, "logits_file": ref_file, "logits_shape": list(ref.shape),
            "max_abs_logit": float(ref.abs().max()), "min_top2_gap_rel": top2_gap(ref), "greedy": greedy_cases}


def load_state(model, state: dict[str, np.ndarray]):
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=False)
    if model.config.tie_word_embeddings:
        model.tie_weights()
    return model


def llama_config(**kw) -> LlamaConfig:
    base = dict(vocab_size=320, hidden_size=72, intermediate_size=96, num_hidden_layers=4, num_attention_heads=9,
                num_key_value_heads=3, head_dim=8, max_position_embeddings=512, rms_norm_eps=1e-5,
                rope_parameters={"rope_type": "default", "rope_theta": 100000.0}, tie_word_embeddings=True,
                bos_token_id=1, eos_token_id=2)
    base.update(kw)
    return LlamaConfig(**base)


def build(out: Path) -> list[dict]:
    torch.manual_seed(0)
    fixtures = []

    # hf_llama + gguf_llama_f32: the same weights in both forms.
    cfg = llama_config()
    model = LlamaForCausalLM(cfg).float().eval()
    model.config._attn_implementation = "eager"
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
    model.save_pretrained(out / "hf_llama", safe_serialization=True)
    ids, ref = prompt_with_gap(model, cfg.vocab_size, 24, seed=1)
    cases = [{"prompt_ids": ids[:5], "n": 12, "ids": greedy(model, ids[:5], 12)}]
    fixtures.append(entry("hf_llama", "LlamaForCausalLM saved by transformers: rotate-half q/k rows that the "
                          "engine reorders at load, 9/3 heads, RoPE base 1e5, tied embeddings",
                          ["model_type llama", "q/k un-permute", "GQA 3:1 with odd head counts", "tied"],
                          "hf_llama", ids, ref, out, cases))
    state = {k: v.detach().numpy() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    write_gguf(out / "gguf_llama_f32.gguf", "llama", cfg, state, cfg.intermediate_size, permute=True)
    fixtures.append(entry("gguf_llama_f32", "the hf_llama weights as a llama GGUF (F32, q/k interleaved as "
                          "convert_hf_to_gguf.py writes them)", ["GGUF llama", "F32", "tied (no output.weight)"],
                          "gguf_llama_f32.gguf", ids, ref, out, cases, ref_name="hf_llama"))

    # gguf_llama_quant: K-quants need 256-wide rows.
    Q = gguf.GGMLQuantizationType
    qcfg = llama_config(hidden_size=256, intermediate_size=512, num_attention_heads=4, num_key_value_heads=2,
                        head_dim=64, num_hidden_layers=2, tie_word_embeddings=False)
    qmodel = LlamaForCausalLM(qcfg).float().eval()
    qmodel.config._attn_implementation = "eager"
    with torch.no_grad():
        for p in qmodel.parameters():
            p.normal_(0, 0.1)
    qstate = {k: v.detach().numpy() for k, v in qmodel.state_dict().items()}
    qtypes = {"model.embed_tokens.weight": Q.Q8_0, "lm_head.weight": Q.Q6_K}
    for l, kinds in enumerate([(Q.Q4_0, Q.Q4_1, Q.Q8_0, Q.Q4_K, Q.Q5_K, Q.Q6_K, Q.Q4_1),
                               (Q.Q4_K, Q.Q5_K, Q.Q6_K, Q.Q4_0, Q.Q4_1, Q.Q8_0, Q.F16)]):
        names = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                 "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
        for n, q in zip(names, kinds):
            if q != Q.F16:
                qtypes[f"model.layers.{l}.{n}.weight"] = q
    stored = write_gguf(out / "gguf_llama_quant.gguf", "llama", qcfg, qstate, qcfg.intermediate_size,
                        permute=True, qtypes=qtypes)
    load_state(qmodel, stored)
    ids, ref = prompt_with_gap(qmodel, qcfg.vocab_size, 20, seed=2)
    cases = [{"prompt_ids": ids[:4], "n": 10, "ids": greedy(qmodel, ids[:4], 10)}]
    fixtures.append(entry("gguf_llama_quant", "a llama GGUF with Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K matrices and "
                          "an untied output; reference on gguf.quants.dequantize of the same blocks",
                          ["Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q5_K", "Q6_K", "untied output"],
                          "gguf_llama_quant.gguf", ids, ref, out, cases))

    # llama4_dense + gguf_llama4_dense.
    l4 = Llama4TextConfig(vocab_size=320, hidden_size=64, intermediate_size=96, intermediate_size_mlp=128,
                          num_hidden_layers=8, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                          max_position_embeddings=512, rms_norm_eps=1e-5, moe_layers=[], num_local_experts=0,
                          interleave_moe_layer_step=0, attention_chunk_size=8192, use_qk_norm=True,
                          attn_temperature_tuning=True, floor_scale=8192, attn_scale=0.1, tie_word_embeddings=True,
                          rope_parameters={"rope_type": "default", "rope_theta": 500000.0}, bos_token_id=1,
                          eos_token_id=2)
    m4 = Llama4ForCausalLM(l4).float().eval()
    m4.config._attn_implementation = "eager"
    with torch.no_grad():
        for p in m4.parameters():
            p.normal_(0, 0.2)
    m4.save_pretrained(out / "llama4_dense", safe_serialization=True)
    ids, ref = prompt_with_gap(m4, l4.vocab_size, 24, seed=3)
    cases = [{"prompt_ids": ids[:6], "n": 10, "ids": greedy(m4, ids[:6], 10)}]
    fixtures.append(entry("llama4_dense", "dense Llama4ForCausalLM as llama.cpp reads llama4 GGUFs: NoPE every "
                          "4th layer, chunk 8192, qk-norm, temperature tuning", ["llama4 dense"],
                          "llama4_dense", ids, ref, out, cases))
    state = {k: v.detach().numpy() for k, v in m4.state_dict().items() if k != "lm_head.weight"}
    write_gguf(out / "gguf_llama4_dense.gguf", "llama4", l4, state, l4.intermediate_size_mlp, permute=False)
    fixtures.append(entry("gguf_llama4_dense", "llama4_dense's weights as a llama4 GGUF (no experts, q/k as "
                          "stored); same reference logits", ["GGUF llama4 dense", "no q/k permutation"],
                          "gguf_llama4_dense.gguf", ids, ref, out, cases, ref_name="llama4_dense"))
    return fixtures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    fixtures = build(out)
    manifest = {"format": 1, "generator": "tools/reference/make_llama_fixtures.py",
                "tolerance": {"max_abs_error_rel": TOLERANCE}, "fixtures": fixtures}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    for f in fixtures:
        print(f"{f['name']}: {f['checkpoint']}, prompt {len(f['prompt_ids'])}, max|logit| {f['max_abs_logit']:.3f}, "
              f"min top-2 gap {f['min_top2_gap_rel']:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
