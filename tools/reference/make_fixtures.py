#!/usr/bin/env python3
"""Tiny random Hugging Face checkpoints + reference outputs from transformers (the golden tests).

    .venv/bin/python tools/reference/make_fixtures.py OUT_DIR [--only NAME ...]

For every fixture below this writes, into OUT_DIR:
  <name>/                     a checkpoint in exact Hugging Face format, written by transformers'
                              own Llama4ForCausalLM(Llama4TextConfig(...)).save_pretrained
                              (config.json, generation_config.json, safetensors), then edited
                              where a fixture needs a spelling transformers 5 does not write
  ref/<name>.logits.f32       transformers' logits for the prompt at every position: raw
                              little-endian float32, shape [T, vocab], row-major (the same format
                              as `mobilellm logits --out`)
  manifest.json               fixtures, prompt ids, reference files, greedy continuations,
                              vocab sizes, tolerance, and what each fixture covers

The reference is computed in float32 with attn_implementation="eager" from the *stored* weights:
weights are rounded to the storage dtype (bf16 / f16 / f32) first and computed on in fp32, so the
reference and our engine see bit-identical weights.

Masks. Llama4TextModel builds its masks from `config.layer_types` and only knows "full_attention"
and "chunked_attention"; a "sliding_attention" layer would raise a KeyError there. transformers has
NO sliding-window mask for llama4, so we always build the masks ourselves and pass them as the
precomputed dict {layer_type: 4D additive float mask [1, 1, T, T]} that Llama4TextModel.forward
accepts:
  full_attention     transformers' create_causal_mask                 keys j <= i
  chunked_attention  transformers' create_chunked_causal_mask         same attention_chunk_size block, j <= i
  sliding_attention  written here (sliding_window_mask below)         keys i - W < j <= i, W = sliding_window
The sliding mask is printed when the script runs, and cross-checked against transformers' generic
create_sliding_window_causal_mask (used by Mistral/Gemma; same i - W < j <= i rule), which llama4
never calls.

Config. Llama4TextConfig validates layer_types against configuration_utils.ALLOWED_ATTN_LAYER_TYPES,
which includes "sliding_attention", so it is accepted as is. Llama4TextConfig has no
`sliding_window` field; PreTrainedConfig stores unknown keyword arguments as attributes and
save_pretrained writes them, so `sliding_window` lands in config.json like any other key.

Every fixture is then checked three ways before anything is written to the manifest:
  1. transformers reloads the checkpoint from disk (after our config edits) and gives the same
     logits (for the `mlp.` alias fixture, which transformers has no alias for, it reads config.json
     and gets the tensors renamed back);
  2. spec_forward.py reads the files on disk following the spec literally (float64 numpy) and
     agrees with transformers to 1e-5 x max|logit|;
  3. every feature the fixture exercises is *detected*: breaking it in spec_forward moves the
     logits by more than 10x the test tolerance.
Deterministic: fixed seeds, numpy PCG64 for weights and prompts.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

import transformers  # noqa: E402
from transformers import Llama4ForCausalLM, Llama4TextConfig  # noqa: E402
from transformers.masking_utils import (  # noqa: E402
    create_causal_mask,
    create_chunked_causal_mask,
    create_sliding_window_causal_mask,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import spec_forward  # noqa: E402

# The golden tests' contract (tests/golden): per fixture, max |ours - ref| <= TOLERANCE * max |ref|,
# and identical argmax at every position.
TOLERANCE = 1e-4
# Every argmax we test has a top-1/top-2 gap of at least 2 x TOLERANCE x max|ref|: an engine within
# tolerance cannot flip it, so the argmax and greedy checks are never stricter than the logits check.
MIN_GAP = 2 * TOLERANCE
# spec_forward (float64) vs transformers (float32).
SPEC_AGREEMENT = 1e-5
# An ablation is "detected" when it moves the logits by more than this x max|ref|.
DETECT = 10 * TOLERANCE

DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


@dataclass
class Fixture:
    name: str
    description: str
    covers: list[str]
    config: dict
    dtype: str = "bfloat16"
    rope_spelling: str = "5.x"  # "4.x": rope_theta + rope_scaling, as the released MobileLLM-Pro config
    drop_keys: tuple[str, ...] = ()  # keys removed from config.json after saving (Llama-4 defaults apply)
    config_overrides: dict = field(default_factory=dict)  # written into config.json after saving
    max_shard_size: str | None = None
    mlp_alias: bool = False
    prompt_len: int = 32
    greedy: tuple[tuple[int, int], ...] = ((0, 8),)  # (prompt length, new tokens); 0 = the full prompt
    seed: int = 0


FIXTURES = [
    Fixture(
        name="pro_like",
        description="MobileLLM-Pro pattern scaled down: global layers 0,4,7 and sliding elsewhere, "
        "explicit non-default no_rope_layers, qk-norm, temperature tuning past floor_scale, tied "
        "embeddings, head_dim independent of hidden/heads, MQA; config in the transformers-4.x "
        "spelling with the release's architecture name",
        covers=["sliding_attention (W=8, prompt 5x W)", "full_attention", "no_rope_layers explicit",
                "use_qk_norm on RoPE layers", "attn_temperature_tuning (floor_scale 8)",
                "tie_word_embeddings", "head_dim != hidden/heads", "MQA (1 kv head)",
                "rope spelling 4.x (rope_theta, rope_scaling null)", "architectures MobileLLMP1ForCausalLM",
                "bf16 weights", "decode-only ring wrap (2-token prompt, 30 new)"],
        config=dict(
            vocab_size=512, hidden_size=64, intermediate_size=80, intermediate_size_mlp=96,
            num_hidden_layers=8, num_attention_heads=4, num_key_value_heads=1, head_dim=32,
            layer_types=["full_attention" if l in (0, 4, 7) else "sliding_attention" for l in range(8)],
            sliding_window=8, no_rope_layers=[1, 1, 0, 1, 0, 1, 1, 1],
            use_qk_norm=True, attn_temperature_tuning=True, floor_scale=8, attn_scale=0.1,
            tie_word_embeddings=True, rope_parameters={"rope_type": "default", "rope_theta": 500000.0},
        ),
        rope_spelling="4.x",
        config_overrides={"architectures": ["MobileLLMP1ForCausalLM"]},
        prompt_len=40,
        greedy=((0, 16), (2, 30)),
        seed=1,
    ),
    Fixture(
        name="llama4_defaults",
        description="no_rope_layers and layer_types absent (Llama-4 defaults: no-RoPE every 4th "
        "layer and full, RoPE layers chunked with attention_chunk_size 8), no qk-norm, untied "
        "lm_head, llama3 RoPE scaling touching all three frequency regimes, GQA 2:1, rope_parameters "
        "(transformers-5.x spelling)",
        covers=["no_rope_layers absent", "layer_types absent", "chunked_attention (chunk 8, prompt 5 chunks)",
                "use_qk_norm false", "untied lm_head", "rope_scaling llama3", "rope spelling 5.x",
                "GQA 2:1", "attn_temperature_tuning (floor_scale 16, attn_scale 0.25)", "bf16 weights"],
        config=dict(
            vocab_size=384, hidden_size=48, intermediate_size=64, intermediate_size_mlp=80,
            num_hidden_layers=8, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
            attention_chunk_size=8, use_qk_norm=False, attn_temperature_tuning=True, floor_scale=16,
            attn_scale=0.25, tie_word_embeddings=False,
            rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0,
                             "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                             "original_max_position_embeddings": 64},
        ),
        drop_keys=("no_rope_layers", "layer_types"),
        prompt_len=40,
        greedy=((0, 12), (3, 24)),
        seed=2,
    ),
    Fixture(
        name="gqa5_sharded_f16",
        description="GQA 5:1 like the real model (10 q heads / 2 kv heads), float16, sharded "
        "checkpoint with model.safetensors.index.json, qk-norm on RoPE layers while temperature "
        "tuning is off although no-RoPE layers exist, llama3 scaling in the 4.x spelling, odd window",
        covers=["GQA 5:1", "float16 weights", "sharded (index.json)", "use_qk_norm with rope layers",
                "attn_temperature_tuning false with no-RoPE layers (floor_scale 4 so a wrong branch shows)",
                "rope_scaling llama3 in 4.x spelling", "sliding_attention (W=5)", "tie_word_embeddings"],
        config=dict(
            vocab_size=320, hidden_size=40, intermediate_size=48, intermediate_size_mlp=72,
            num_hidden_layers=6, num_attention_heads=10, num_key_value_heads=2, head_dim=16,
            layer_types=["full_attention", "sliding_attention", "sliding_attention", "full_attention",
                         "sliding_attention", "full_attention"],
            sliding_window=5, no_rope_layers=[1, 0, 1, 0, 1, 1],
            use_qk_norm=True, attn_temperature_tuning=False, floor_scale=4, attn_scale=0.1,
            tie_word_embeddings=True,
            rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 4.0,
                             "low_freq_factor": 1.0, "high_freq_factor": 2.0,
                             "original_max_position_embeddings": 32},
        ),
        dtype="float16",
        rope_spelling="4.x",
        max_shard_size="64KB",
        prompt_len=24,
        greedy=((0, 10), (1, 20)),
        seed=3,
    ),
    Fixture(
        name="mha_mlp_alias_f32",
        description="MHA (kv heads == heads), float32, tensors renamed feed_forward. -> mlp., "
        "explicit layer_types mixing chunked, sliding and full, no_rope_layers empty (= Llama-4 "
        "default), untied, rms_norm_eps 1e-6, plain RoPE in the 5.x spelling",
        covers=["MHA", "float32 weights", "mlp. alias", "chunked + sliding + full in one model",
                "no_rope_layers [] (default pattern)", "attn_temperature_tuning (floor_scale 4)",
                "untied lm_head", "rope spelling 5.x default"],
        config=dict(
            vocab_size=256, hidden_size=32, intermediate_size=40, intermediate_size_mlp=64,
            num_hidden_layers=6, num_attention_heads=4, num_key_value_heads=4, head_dim=24,
            layer_types=["chunked_attention", "sliding_attention", "full_attention", "chunked_attention",
                         "sliding_attention", "full_attention"],
            sliding_window=6, attention_chunk_size=10, no_rope_layers=[],
            use_qk_norm=True, attn_temperature_tuning=True, floor_scale=4, attn_scale=0.1,
            rms_norm_eps=1e-6, tie_word_embeddings=False,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        ),
        dtype="float32",
        config_overrides={"no_rope_layers": []},
        mlp_alias=True,
        prompt_len=32,
        greedy=((0, 12),),
        seed=4,
    ),
    Fixture(
        name="llama4_no_chunk",
        description="no_rope_layers and layer_types absent with attention_chunk_size null: "
        "transformers then makes every layer full attention; head_dim 64 like the real model, "
        "4.x spelling",
        covers=["layer_types absent + attention_chunk_size null (all full)", "no_rope_layers absent",
                "head_dim 64", "MQA", "qk-norm + temperature tuning", "rope spelling 4.x"],
        config=dict(
            vocab_size=256, hidden_size=32, intermediate_size=40, intermediate_size_mlp=48,
            num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1, head_dim=64,
            attention_chunk_size=None, use_qk_norm=True, attn_temperature_tuning=True, floor_scale=8,
            attn_scale=0.1, tie_word_embeddings=True,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        ),
        rope_spelling="4.x",
        drop_keys=("no_rope_layers", "layer_types"),
        prompt_len=20,
        greedy=((0, 8),),
        seed=5,
    ),
]

COMMON_CONFIG = dict(
    hidden_act="silu", max_position_embeddings=256, rms_norm_eps=1e-5, moe_layers=[],
    bos_token_id=1, pad_token_id=0, eos_token_id=[2], attention_bias=False,
)
# eos ids are chosen per fixture among these, skipping any id a greedy continuation produces (our
# `run` stops on eos; the reference continuations must run their full length).
EOS_CANDIDATES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
# Sampling defaults like the released generation_config.json (spec §1); the tests pass --temp 0.
GENERATION = dict(do_sample=True, temperature=0.6, top_p=0.9)


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------- masks

def sliding_window_mask(t: int, window: int, dtype=torch.float32) -> torch.Tensor:
    """Written here because transformers has none for llama4: keys i - W < j <= i, as [1, 1, T, T]
    additive float (0 = attend, finfo.min = masked, the same values transformers' eager masks use)."""
    i = torch.arange(t)[:, None]
    j = torch.arange(t)[None, :]
    allowed = (j <= i) & (j > i - window)
    return torch.where(allowed, 0.0, torch.finfo(dtype).min).to(dtype)[None, None]


def build_masks(config: Llama4TextConfig, t: int) -> dict[str, torch.Tensor]:
    embeds = torch.zeros(1, t, config.hidden_size)
    pos = torch.arange(t)[None]
    kw = dict(config=config, inputs_embeds=embeds, attention_mask=None, cache=None, position_ids=pos)
    masks = {}
    for kind in sorted(set(config.layer_types)):
        if kind == "full_attention":
            masks[kind] = create_causal_mask(**kw)
        elif kind == "chunked_attention":
            masks[kind] = create_chunked_causal_mask(**kw)
        elif kind == "sliding_attention":
            masks[kind] = sliding_window_mask(t, config.sliding_window)
            # Cross-check with transformers' generic sliding mask (not used by llama4).
            generic = create_sliding_window_causal_mask(**kw)
            assert torch.equal(generic, masks[kind]), "sliding mask differs from transformers' generic one"
        else:
            raise ValueError(f"unsupported layer type {kind}")
        assert masks[kind] is not None and masks[kind].shape == (1, 1, t, t), kind
    return masks


def check_masks_against_spec(config: Llama4TextConfig, masks, spec_cfg: spec_forward.SpecConfig, t: int):
    """The masks handed to transformers are exactly spec §3's (spec_forward.allowed)."""
    names = {"full_attention": "full", "sliding_attention": "sliding", "chunked_attention": "chunked"}
    for kind, m in masks.items():
        want = spec_forward.mask_matrix(names[kind], t, spec_cfg)
        got = (m[0, 0] == 0).numpy()
        assert (want == got).all(), f"{kind} mask differs from spec §3"


def show_mask(name: str, m: torch.Tensor, rows: int = 20) -> None:
    t = m.shape[-1]
    log(f"  {name} mask (first {min(rows, t)} of {t} rows; x = attended):")
    for i in range(min(rows, t)):
        log("    " + "".join("x" if m[0, 0, i, j] == 0 else "." for j in range(min(rows, t))) + f"  i={i}")


# ------------------------------------------------------------------------------------------- weights

# A small embedding keeps the residual stream from being dominated by the current token's own
# embedding; with tied logits that would make every greedy continuation repeat the last token.
EMBED_STD = 0.3


def init_weights(model: Llama4ForCausalLM, rng: np.random.Generator, dtype: torch.dtype) -> None:
    """Weights on a scale where every feature visibly moves the logits (HF's 0.02 init gives nearly
    uniform attention, which would hide mask and RoPE bugs): linears N(0, 1/fan_in), embedding N(0, EMBED_STD^2),
    norms U(0.5, 1.5) (not all ones, so a missing norm weight shows). Rounded to the storage dtype."""
    with torch.no_grad():
        for name, p in model.named_parameters():  # a tied lm_head is the embedding: listed once
            if name.endswith("norm.weight"):
                v = rng.uniform(0.5, 1.5, size=p.shape)
            elif name == "model.embed_tokens.weight":
                v = rng.standard_normal(p.shape) * EMBED_STD
            elif name == "lm_head.weight":
                v = rng.standard_normal(p.shape) * 0.5
            else:
                v = rng.standard_normal(p.shape) / np.sqrt(p.shape[1])
            p.copy_(torch.from_numpy(v).to(torch.float32).to(dtype).to(torch.float32))


# --------------------------------------------------------------------------------------- reference

@torch.no_grad()
def logits_of(model, ids: list[int]) -> torch.Tensor:
    masks = build_masks(model.config, len(ids))
    out = model(input_ids=torch.tensor([ids]), attention_mask=masks, use_cache=False)
    return out.logits[0].float()


def top2_gap(row: torch.Tensor) -> float:
    v = torch.topk(row, 2).values
    return float(v[0] - v[1])


@torch.no_grad()
def greedy(model, prompt: list[int], n: int) -> tuple[list[int], float, float]:
    """Repeated full forward passes (no cache), argmax of the last row each time."""
    ids = list(prompt)
    gaps, amax = [], 0.0
    for _ in range(n):
        row = logits_of(model, ids)[-1]
        amax = max(amax, float(row.abs().max()))
        gaps.append(top2_gap(row) / float(row.abs().max()))
        ids.append(int(row.argmax()))
    return ids[len(prompt):], min(gaps), amax


# -------------------------------------------------------------------------------- config rewriting

def rewrite_config(path: Path, fx: Fixture) -> dict:
    cfg = json.loads(path.read_text())
    if fx.rope_spelling == "4.x":
        # The released MobileLLM-Pro config.json was written by transformers 4.x: rope_theta at the top
        # level, rope_scaling null or {rope_type: llama3, ...}, and torch_dtype instead of dtype.
        rp = dict(cfg.pop("rope_parameters"))
        cfg["rope_theta"] = rp.pop("rope_theta")
        cfg["rope_scaling"] = None if rp.get("rope_type", "default") == "default" else rp
        cfg["torch_dtype"] = cfg.pop("dtype")
    for k in fx.drop_keys:
        cfg.pop(k, None)
    cfg.update(fx.config_overrides)
    path.write_text(json.dumps(dict(sorted(cfg.items())), indent=2) + "\n")
    return cfg


def rename_mlp(ckpt: Path) -> None:
    """feed_forward. -> mlp. in the tensor names (spec §2 alias), rewritten with safetensors."""
    f = ckpt / "model.safetensors"
    tensors = load_file(str(f))
    renamed = {k.replace(".feed_forward.", ".mlp."): v for k, v in tensors.items()}
    assert any(".mlp." in k for k in renamed)
    save_file(renamed, str(f), metadata={"format": "pt"})


# ------------------------------------------------------------------------------------------ fixture

def build_fixture(fx: Fixture, out: Path, show: bool) -> dict:
    t0 = time.time()
    dtype = DTYPES[fx.dtype]
    for attempt in range(20):
        seed = fx.seed * 1000 + attempt
        rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        kwargs = {**COMMON_CONFIG, **copy.deepcopy(fx.config)}
        config = Llama4TextConfig(**kwargs)
        config._attn_implementation = "eager"
        model = Llama4ForCausalLM(config).float().eval()
        init_weights(model, rng, dtype)
        prompt = [int(i) for i in rng.integers(0, config.vocab_size, fx.prompt_len)]
        ref = logits_of(model, prompt)
        amax = float(ref.abs().max())
        gap = min(top2_gap(r) for r in ref) / amax
        cases = []
        for plen, n in fx.greedy:
            p = prompt if plen == 0 else [int(i) for i in rng.integers(0, config.vocab_size, plen)]
            ids, g, _ = greedy(model, p, n)
            gap = min(gap, g)
            cases.append({"prompt_ids": p, "n": n, "ids": ids})
        if gap >= MIN_GAP:
            break
        log(f"  {fx.name}: seed {seed} has a top-2 gap of {gap:.2e} x max|logit| < {MIN_GAP:.0e}; next seed")
    else:
        raise RuntimeError(f"{fx.name}: no seed with a safe argmax margin")

    produced = {i for c in cases for i in c["ids"]}
    eos = [i for i in EOS_CANDIDATES if i not in produced][:2]
    config.eos_token_id = eos
    model.generation_config.eos_token_id = eos
    for k, v in GENERATION.items():
        setattr(model.generation_config, k, v)

    if show:
        masks = build_masks(config, len(prompt))
        for kind in sorted(masks):
            if kind != "full_attention":
                show_mask(f"{fx.name} {kind}", masks[kind])

    ckpt = out / fx.name
    shutil.rmtree(ckpt, ignore_errors=True)
    saved = copy.deepcopy(model).to(dtype)
    save_kwargs = {"max_shard_size": fx.max_shard_size} if fx.max_shard_size else {}
    saved.save_pretrained(ckpt, safe_serialization=True, **save_kwargs)
    del saved
    cfg_json = rewrite_config(ckpt / "config.json", fx)
    if fx.mlp_alias:
        rename_mlp(ckpt)
    if fx.max_shard_size:
        assert (ckpt / "model.safetensors.index.json").exists(), "expected a sharded checkpoint"

    # Check 1: transformers reads our edited files back to the same model. transformers has no `mlp.`
    # alias, so for that fixture it reads config.json and we hand it the tensors renamed back.
    if fx.mlp_alias:
        again = Llama4ForCausalLM(Llama4TextConfig.from_pretrained(ckpt)).float().eval()
        again.config._attn_implementation = "eager"
        state = {k.replace(".mlp.", ".feed_forward."): v.float() for k, v in load_file(str(ckpt / "model.safetensors")).items()}
        again.load_state_dict(state, strict=True)
    else:
        again = Llama4ForCausalLM.from_pretrained(ckpt, dtype=torch.float32, attn_implementation="eager").eval()
    for k in ("layer_types", "no_rope_layers", "attention_chunk_size", "sliding_window", "rope_parameters",
              "tie_word_embeddings", "use_qk_norm", "attn_temperature_tuning", "floor_scale", "attn_scale"):
        assert getattr(again.config, k, None) == getattr(config, k, None), f"{fx.name}: reloaded {k} differs"
    diff = float((logits_of(again, prompt) - ref).abs().max())
    assert diff == 0.0, f"{fx.name}: transformers reloaded from disk differs by {diff}"
    del again

    # Check 2: spec §3, literally, from the files on disk.
    spec_cfg, weights = spec_forward.load(ckpt)
    check_masks_against_spec(config, build_masks(config, len(prompt)), spec_cfg, len(prompt))
    ref64 = ref.double().numpy()
    spec_logits = spec_forward.forward(spec_cfg, weights, prompt)
    spec_err = float(np.abs(spec_logits - ref64).max()) / amax
    assert spec_err <= SPEC_AGREEMENT, f"{fx.name}: spec_forward vs transformers {spec_err:.2e} x max|logit|"

    # Check 3: every feature this fixture exercises moves the logits well past the tolerance.
    detected = {}
    for ab in spec_forward.applicable_ablations(spec_cfg, weights):
        moved = float(np.abs(spec_forward.forward(spec_cfg, weights, prompt, ablate=ab) - ref64).max()) / amax
        detected[ab] = moved
        assert moved > DETECT, f"{fx.name}: ablation {ab} moves logits only {moved:.1e} x max|logit|"
    if spec_cfg.llama3 is not None:
        regimes = spec_forward.llama3_regimes(spec_cfg)
        assert all(regimes.values()), f"{fx.name}: llama3 leaves a regime empty: {regimes}"
    else:
        regimes = None

    ref_dir = out / "ref"
    ref_dir.mkdir(parents=True, exist_ok=True)
    ref_file = ref_dir / f"{fx.name}.logits.f32"
    ref.numpy().astype("<f4").tofile(ref_file)

    files = sorted(p.name for p in ckpt.iterdir())
    log(f"{fx.name}: {fx.dtype}, {config.num_hidden_layers} layers, vocab {config.vocab_size}, "
        f"prompt {len(prompt)}, seed {seed}, max|logit| {amax:.3f}, min top-2 gap {gap:.1e} x max, "
        f"spec_forward agrees to {spec_err:.1e} x max  ({time.time() - t0:.2f} s)")
    log(f"  files: {', '.join(files)}")
    log(f"  layer_types: {config.layer_types}")
    log(f"  rope layers: {[int(r) for r in spec_cfg.rope]}; config.json rope keys: "
        + ", ".join(f"{k}={json.dumps(cfg_json[k])}" for k in ("rope_parameters", "rope_theta", "rope_scaling")
                    if k in cfg_json))
    if regimes:
        log(f"  llama3 frequency regimes: {regimes}")
    log("  ablations detected (max |change| / max|logit|): "
        + ", ".join(f"{k} {v:.1e}" for k, v in detected.items()))
    for c in cases:
        log(f"  greedy: prompt {len(c['prompt_ids'])} ids -> {c['ids']}")

    return {
        "name": fx.name,
        "description": fx.description,
        "covers": fx.covers,
        "checkpoint": fx.name,
        "dtype": fx.dtype,
        "vocab_size": config.vocab_size,
        "seed": seed,
        "prompt_ids": prompt,
        "logits_file": f"ref/{fx.name}.logits.f32",
        "logits_shape": [len(prompt), config.vocab_size],
        "max_abs_logit": amax,
        "min_top2_gap_rel": gap,
        "spec_forward_error_rel": spec_err,
        "ablations_detected": detected,
        "greedy": cases,
        "eos_token_ids": eos,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="output directory")
    ap.add_argument("--only", nargs="*", help="fixture names (default: all)")
    ap.add_argument("--list", action="store_true", help="print the fixture names and exit")
    args = ap.parse_args()
    if args.list:
        print("\n".join(f.name for f in FIXTURES))
        return 0
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.utils.logging.disable_progress_bar()
    t0 = time.time()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    chosen = [f for f in FIXTURES if not args.only or f.name in args.only]
    if args.only and len(chosen) != len(args.only):
        raise SystemExit(f"unknown fixture in {args.only}")
    log(f"make_fixtures: transformers {transformers.__version__}, torch {torch.__version__}, into {out}")
    log("masks: full = create_causal_mask, chunked = create_chunked_causal_mask (transformers); "
        "sliding = written here (transformers has no sliding mask for llama4): keys i - W < j <= i")
    entries = [build_fixture(f, out, show=(i == 0)) for i, f in enumerate(chosen)]
    manifest = {
        "format": 1,
        "generator": "tools/reference/make_fixtures.py",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "tolerance": {
            "max_abs_error_rel": TOLERANCE,
            "meaning": "per fixture: max |ours - ref| <= max_abs_error_rel * max |ref|, and identical "
                       "argmax at every position",
        },
        "logits_format": "raw little-endian float32, shape [T, vocab_size], row-major",
        "fixtures": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    log(f"wrote {out / 'manifest.json'}: {len(entries)} fixtures in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
