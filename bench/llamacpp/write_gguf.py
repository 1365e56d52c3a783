#!/usr/bin/env python3
"""Our Hugging Face checkpoint as a llama.cpp GGUF of the same shape and weights, Q4_0 or BF16.

    .venv/bin/python bench/llamacpp/write_gguf.py CHECKPOINT_DIR OUT.gguf [--type q4_0|bf16] [--threads N]
        [--llama-quantize BIN]

llama.cpp has no MobileLLM-Pro architecture. The model is written as its `llama` architecture
with the same shape (30 layers, hidden 1280, 20 query / 4 KV heads of 64, SwiGLU 6144, vocab
202048, tied embedding: no output.weight, so llama.cpp uses token_embd for the logits) and the
same weights. What `llama` cannot express: the sliding-window layers (every llama.cpp layer is
global), qk-norm and the no-RoPE layers; this is a speed comparison, not a numerical one. The
vocabulary is a placeholder (token ids are fed directly).

The tensors are written as F16, then converted by llama.cpp's own quantizer to Q4_0 (or BF16,
to compare with our float path) with `pure` set (the llama_cpp module of bench/llamacpp/setup.sh, or
the `llama-quantize` program of a llama.cpp build given by --llama-quantize), so that every matrix including the tied
embedding / output has that type (by default llama.cpp would make a Q4_0 model's output matrix
Q6_K, which reads more bytes per token).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
from safetensors import safe_open


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--type", choices=["q4_0", "bf16"], default="q4_0")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--llama-quantize", type=Path, help="llama.cpp's llama-quantize (default: the llama_cpp module)")
    args = ap.parse_args()

    import gguf

    cfg = json.loads((args.checkpoint / "config.json").read_text())
    layers = cfg["num_hidden_layers"]
    hidden = cfg["hidden_size"]
    vocab = cfg["vocab_size"]
    ffn = cfg.get("intermediate_size_mlp", cfg["intermediate_size"])
    f16 = args.out.with_suffix(".f16.gguf")

    t0 = time.time()
    w = gguf.GGUFWriter(str(f16), "llama")
    w.add_context_length(cfg.get("max_position_embeddings", 131072))
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(ffn)
    w.add_head_count(cfg["num_attention_heads"])
    w.add_head_count_kv(cfg["num_key_value_heads"])
    w.add_rope_dimension_count(cfg.get("head_dim", hidden // cfg["num_attention_heads"]))
    w.add_rope_freq_base(float(cfg.get("rope_theta", 500000.0)))
    w.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-5)))
    w.add_vocab_size(vocab)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_tokenizer_model("llama")
    w.add_token_list([f"<t{i}>".encode() for i in range(vocab)])
    w.add_token_scores([0.0] * vocab)
    w.add_token_types([gguf.TokenType.NORMAL] * vocab)
    w.add_bos_token_id(cfg.get("bos_token_id", 1))
    eos = cfg.get("eos_token_id", 2)
    w.add_eos_token_id(eos[0] if isinstance(eos, list) else eos)

    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    per_layer = {"input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
                 "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
                 "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
                 "feed_forward.gate_proj.weight": "ffn_gate.weight", "feed_forward.up_proj.weight": "ffn_up.weight",
                 "feed_forward.down_proj.weight": "ffn_down.weight"}
    for i in range(layers):
        for hf, gg in per_layer.items():
            names[f"model.layers.{i}.{hf}"] = f"blk.{i}.{gg}"
    with safe_open(args.checkpoint / "model.safetensors", framework="pt") as f:
        for hf, gg in names.items():
            t = f.get_tensor(hf).float().numpy()
            # Norms stay F32 (llama.cpp expects them so); matrices F16.
            w.add_tensor(gg, t.astype(np.float32 if t.ndim == 1 else np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    t1 = time.time()

    if args.llama_quantize:
        subprocess.run([args.llama_quantize, "--pure", f16, args.out, args.type.upper(), str(args.threads)], check=True,
                       stdout=subprocess.DEVNULL)
    else:
        import llama_cpp

        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = {"q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0, "bf16": llama_cpp.LLAMA_FTYPE_MOSTLY_BF16}[args.type]
        params.nthread = args.threads
        params.pure = True
        rc = llama_cpp.llama_model_quantize(str(f16).encode(), str(args.out).encode(), params)
        if rc != 0:
            raise SystemExit(f"llama_model_quantize failed ({rc})")
    f16.unlink()
    print(f"wrote {args.out}: llama architecture, {args.type.upper()} (pure), {args.out.stat().st_size / 1e6:.1f} MB "
          f"(F16 write {t1 - t0:.0f} s, quantize {time.time() - t1:.0f} s)")


if __name__ == "__main__":
    main()
