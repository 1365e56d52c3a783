"""A second, independent reading of a fixture: spec §3 written out literally in float64 numpy.

make_fixtures.py computes the reference with transformers. This module reads the *files on disk*
(config.json in either RoPE spelling, with keys absent where the Llama-4 defaults apply; single or
sharded safetensors; `feed_forward.` or `mlp.` names) following ../shared/spec/mobilellm-pro.md
§2–§3 word for word, and runs the forward pass. Agreement with transformers proves three things at
once: the masks we hand transformers are the ones the spec describes, the config rewrites
(4.x spelling, removed keys) mean what we intend, and the spec's description of the model matches
transformers' code.

It also runs the forward pass with one feature deliberately broken at a time ("ablations"), so the
fixture script can prove that every fixture actually *detects* the branches it claims to cover
(a fixture whose logits do not move when a feature is dropped tests nothing).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# One feature broken at a time; see forward(ablate=...).
ABLATIONS = {
    "sliding_as_full": "sliding layers ignore the window (see every earlier key)",
    "sliding_off_by_one": "sliding layers see W+1 keys (i - W <= j <= i)",
    "chunked_as_full": "chunked layers ignore the chunk boundaries",
    "rope_half_split": "RoPE rotates the first half against the second half (GPT-NeoX style)",
    "rope_everywhere": "RoPE on every layer (no_rope_layers ignored)",
    "rope_default_pattern": "no_rope_layers replaced by the Llama-4 default pattern",
    "no_llama3": "llama3 frequency smoothing ignored",
    "qk_norm_flipped": "use_qk_norm read as its opposite",
    "qk_norm_all_layers": "qk-norm applied on no-RoPE layers too",
    "temperature_flipped": "attn_temperature_tuning read as its opposite",
    "temperature_off_by_one": "temperature tuning uses floor(pos / floor_scale) instead of floor((pos + 1) / ...)",
    "gqa_modulo": "query head h uses KV head h % n_kv instead of h // group",
    "untie_flip": "output matrix: embedding <-> lm_head swapped (tied read as untied or vice versa)",
}


@dataclass
class SpecConfig:
    vocab: int
    hidden: int
    n_layers: int
    n_heads: int
    n_kv: int
    head_dim: int
    eps: float
    theta: float
    llama3: dict | None
    use_qk_norm: bool
    temp_tuning: bool
    attn_scale: float
    floor_scale: int
    rope: list[bool] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # full / sliding / chunked
    window: int = 0
    chunk: int | None = None
    tied: bool = True


def parse_config(cfg: dict) -> SpecConfig:
    """Spec §1/§3 rules, including both RoPE spellings and the Llama-4 defaults for absent keys."""
    n_layers = cfg["num_hidden_layers"]
    n_heads = cfg["num_attention_heads"]
    if "rope_parameters" in cfg and cfg["rope_parameters"]:  # transformers 5.x
        rp = cfg["rope_parameters"]
        theta = float(rp.get("rope_theta", cfg.get("rope_theta", 500000.0)))
        scaling = rp if rp.get("rope_type", rp.get("type", "default")) != "default" else None
    else:  # transformers 4.x
        theta = float(cfg.get("rope_theta", 500000.0))
        scaling = cfg.get("rope_scaling")
        if scaling and scaling.get("rope_type", scaling.get("type", "default")) == "default":
            scaling = None
    llama3 = None
    if scaling is not None:
        kind = scaling.get("rope_type", scaling.get("type"))
        if kind != "llama3":
            raise ValueError(f"spec_forward: unsupported rope type {kind}")
        llama3 = {
            "factor": float(scaling["factor"]),
            "low": float(scaling["low_freq_factor"]),
            "high": float(scaling["high_freq_factor"]),
            "orig": float(scaling["original_max_position_embeddings"]),
        }
    no_rope = cfg.get("no_rope_layers") or [int((l + 1) % 4 != 0) for l in range(n_layers)]
    rope = [bool(v) for v in no_rope[:n_layers]]
    chunk = cfg.get("attention_chunk_size", 8192)
    if cfg.get("layer_types"):
        names = {"full_attention": "full", "sliding_attention": "sliding", "chunked_attention": "chunked"}
        kinds = [names[t] for t in cfg["layer_types"]]
    else:
        # Llama-4 default (configuration_llama4.py): RoPE layers chunked, no-RoPE layers full; with
        # attention_chunk_size null every layer is full.
        kinds = ["chunked" if r and chunk is not None else "full" for r in rope]
    return SpecConfig(
        vocab=cfg["vocab_size"],
        hidden=cfg["hidden_size"],
        n_layers=n_layers,
        n_heads=n_heads,
        n_kv=cfg.get("num_key_value_heads") or n_heads,
        head_dim=cfg.get("head_dim") or cfg["hidden_size"] // n_heads,
        eps=float(cfg.get("rms_norm_eps", 1e-5)),
        theta=theta,
        llama3=llama3,
        use_qk_norm=bool(cfg.get("use_qk_norm", True)),
        temp_tuning=bool(cfg.get("attn_temperature_tuning", True)),
        attn_scale=float(cfg.get("attn_scale", 0.1)),
        floor_scale=int(cfg.get("floor_scale", 8192)),
        rope=rope,
        kinds=kinds,
        window=int(cfg.get("sliding_window") or 0),
        chunk=chunk,
        tied=bool(cfg.get("tie_word_embeddings", False)),
    )


def load_tensors(ckpt: Path) -> dict[str, np.ndarray]:
    """Single or sharded safetensors, any dtype, as float64; `mlp.` renamed to `feed_forward.`."""
    from safetensors.torch import load_file  # numpy cannot hold bf16

    index = ckpt / "model.safetensors.index.json"
    files = sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.exists() else ["model.safetensors"]
    out = {}
    for f in files:
        for name, t in load_file(str(ckpt / f)).items():
            out[name.replace(".mlp.", ".feed_forward.")] = t.double().numpy()
    return out


def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def inv_freqs(c: SpecConfig, use_llama3: bool) -> np.ndarray:
    d = c.head_dim
    inv = 1.0 / c.theta ** (np.arange(0, d, 2, dtype=np.float64) / d)
    if c.llama3 is None or not use_llama3:
        return inv
    p = c.llama3
    low_wavelen, high_wavelen = p["orig"] / p["low"], p["orig"] / p["high"]
    out = []
    for f in inv:
        wavelen = 2 * math.pi / f
        if wavelen < high_wavelen:
            out.append(f)
        elif wavelen > low_wavelen:
            out.append(f / p["factor"])
        else:
            s = (p["orig"] / wavelen - p["low"]) / (p["high"] - p["low"])
            out.append((1 - s) * f / p["factor"] + s * f)
    return np.array(out)


def llama3_regimes(c: SpecConfig) -> dict[str, int]:
    """How many frequencies llama3 leaves alone / smooths / divides by factor."""
    counts = {"unchanged": 0, "smoothed": 0, "divided": 0}
    p = c.llama3
    for f in 1.0 / c.theta ** (np.arange(0, c.head_dim, 2, dtype=np.float64) / c.head_dim):
        wavelen = 2 * math.pi / f
        if wavelen < p["orig"] / p["high"]:
            counts["unchanged"] += 1
        elif wavelen > p["orig"] / p["low"]:
            counts["divided"] += 1
        else:
            counts["smoothed"] += 1
    return counts


def rope(x, pos, inv, half_split=False):
    """x: [T, H, D]. Interleaved: pairs (2i, 2i+1) rotate together (spec §3)."""
    ang = pos[:, None] * inv[None, :]  # [T, D/2]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    if half_split:
        h = x.shape[-1] // 2
        a, b = x[..., :h], x[..., h:]
        return np.concatenate([a * cos - b * sin, a * sin + b * cos], axis=-1)
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * cos - b * sin
    out[..., 1::2] = a * sin + b * cos
    return out


def allowed(kind: str, i: int, j: int, c: SpecConfig, ablate: str | None) -> bool:
    """Spec §3 masks. Global: j <= i. Sliding: i - W < j <= i. Chunked: same block, j <= i."""
    if j > i:
        return False
    if kind == "sliding" and ablate != "sliding_as_full":
        w = c.window + (1 if ablate == "sliding_off_by_one" else 0)
        return i - w < j
    if kind == "chunked" and ablate != "chunked_as_full":
        return i // c.chunk == j // c.chunk
    return True


def mask_matrix(kind: str, t: int, c: SpecConfig, ablate: str | None = None) -> np.ndarray:
    return np.array([[allowed(kind, i, j, c, ablate) for j in range(t)] for i in range(t)])


def forward(c: SpecConfig, w: dict[str, np.ndarray], ids, ablate: str | None = None) -> np.ndarray:
    t = len(ids)
    pos = np.arange(t, dtype=np.float64)
    rope_flags = list(c.rope)
    if ablate == "rope_everywhere":
        rope_flags = [True] * c.n_layers
    if ablate == "rope_default_pattern":
        rope_flags = [(l + 1) % 4 != 0 for l in range(c.n_layers)]
    use_qk_norm = c.use_qk_norm != (ablate == "qk_norm_flipped")
    temp_tuning = c.temp_tuning != (ablate == "temperature_flipped")
    inv = inv_freqs(c, use_llama3=ablate != "no_llama3")
    group = c.n_heads // c.n_kv
    masks = {k: mask_matrix(k, t, c, ablate) for k in set(c.kinds)}

    x = w["model.embed_tokens.weight"][np.asarray(ids)]  # no embedding scaling
    for l in range(c.n_layers):
        p = f"model.layers.{l}."
        h = rmsnorm(x, w[p + "input_layernorm.weight"], c.eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T).reshape(t, c.n_heads, c.head_dim)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).reshape(t, c.n_kv, c.head_dim)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(t, c.n_kv, c.head_dim)
        if rope_flags[l]:
            q = rope(q, pos, inv, ablate == "rope_half_split")
            k = rope(k, pos, inv, ablate == "rope_half_split")
        if use_qk_norm and (rope_flags[l] or ablate == "qk_norm_all_layers"):
            q = rmsnorm(q, 1.0, c.eps)  # per head, no weight
            k = rmsnorm(k, 1.0, c.eps)
        if temp_tuning and not rope_flags[l]:
            p1 = pos if ablate == "temperature_off_by_one" else pos + 1
            q = q * (1 + c.attn_scale * np.log(np.floor(p1 / c.floor_scale) + 1))[:, None, None]
        o = np.empty((t, c.n_heads, c.head_dim))
        m = masks[c.kinds[l]]
        for hq in range(c.n_heads):
            hk = hq % c.n_kv if ablate == "gqa_modulo" else hq // group
            s = q[:, hq, :] @ k[:, hk, :].T * c.head_dim**-0.5
            s = np.where(m, s, -np.inf)
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            o[:, hq, :] = (s / s.sum(axis=-1, keepdims=True)) @ v[:, hk, :]
        x = x + o.reshape(t, -1) @ w[p + "self_attn.o_proj.weight"].T
        h = rmsnorm(x, w[p + "post_attention_layernorm.weight"], c.eps)
        g = h @ w[p + "feed_forward.gate_proj.weight"].T
        u = h @ w[p + "feed_forward.up_proj.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * u) @ w[p + "feed_forward.down_proj.weight"].T
    h = rmsnorm(x, w["model.norm.weight"], c.eps)
    use_embedding = c.tied != (ablate == "untie_flip")
    if use_embedding or "lm_head.weight" not in w:
        out = w["model.embed_tokens.weight"]
    else:
        out = w["lm_head.weight"]
    return h @ out.T  # no softcap, no bias


def applicable_ablations(c: SpecConfig, w: dict[str, np.ndarray]) -> list[str]:
    """The ablations that change the model's definition for this config (others are no-ops)."""
    out = []
    if "sliding" in c.kinds:
        out += ["sliding_as_full", "sliding_off_by_one"]
    if "chunked" in c.kinds:
        out.append("chunked_as_full")
    if any(c.rope):
        out += ["rope_half_split", "qk_norm_flipped"]
    if not all(c.rope):
        out += ["rope_everywhere", "temperature_flipped"]
        if c.temp_tuning:
            out.append("temperature_off_by_one")
        if c.use_qk_norm:
            out.append("qk_norm_all_layers")
    if c.rope != [(l + 1) % 4 != 0 for l in range(c.n_layers)]:
        out.append("rope_default_pattern")
    if c.llama3 is not None:
        out.append("no_llama3")
    if 1 < c.n_kv < c.n_heads:
        out.append("gqa_modulo")
    if "lm_head.weight" in w:
        out.append("untie_flip")
    return out


def load(ckpt: Path) -> tuple[SpecConfig, dict[str, np.ndarray]]:
    return parse_config(json.loads((ckpt / "config.json").read_text())), load_tensors(ckpt)
