#!/usr/bin/env python3
"""torchao's int4 / int8 codes and scales for test tensors (the quantization bit-identity tests).

    .venv/bin/python tools/reference/quant_reference.py OUT.safetensors

Writes one safetensors file. Every input is float32; every output was computed by torchao 0.18
through the code path that implements the scheme (see docs/QUANTIZATION.md):

  q4g32.w [R, K]            weights whose values are bf16 numbers (the checkpoints are bf16)
  q4g32.codes [R, K] I8     Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4,
  q4g32.scales [R, K/32]    weight_granularity=PerGroup(32)) applied to an fp32 nn.Linear: its
                            IntxUnpackedToInt8Tensor.qdata and .scale (spec §4.1)
  q4cw.w [R, K], q4cw.learned [R, 1]
  q4cw.codes [R, K] I8      IntxUnpackedToInt8Tensor.from_hp with custom_scale = the learned
                            scale (what a `weight_fake_quantizer.scale` becomes, spec §4.2)
  q4cw_amax.codes / .scales the same tensor with PerAxis(0) and computed scales (amax / 7.5)
  act.x [T, K]              activations
  act.codes [T, K] I8       choose_qparams_affine + quantize_affine exactly as torchao's
  act.scales / act.zps [T]  _apply_int8_act_asym_per_token_quant_dequant calls them (spec §4.3)
  kv.x [T, H, D]            keys; quantized per token per head over D (spec §4.4)
  kv.codes / kv.scales / kv.zps

Inputs mix Gaussian data with the cases that break a careless implementation: exact .5 ties
(round half to even), clipping at +7 / +127, all-zero / all-negative / all-positive blocks,
subnormal magnitudes, and huge values. Deterministic (numpy PCG64, fixed seed).
"""

from __future__ import annotations

import sys

import numpy as np
import torch
from safetensors.numpy import save_file
from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
from torchao.quantization.granularity import PerAxis, PerGroup
from torchao.quantization.quant_primitives import MappingType, choose_qparams_affine, quantize_affine
from torchao.quantization.quantize_.workflows.intx.intx_unpacked_to_int8_tensor import IntxUnpackedToInt8Tensor

rng = np.random.default_rng(20240601)


def bf16_values(a: np.ndarray) -> np.ndarray:
    """Round to bf16 and back: the values a bf16 checkpoint can hold."""
    return torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16).to(torch.float32).numpy()


def weight_matrix(rows: int, cols: int) -> np.ndarray:
    w = rng.normal(0.0, 0.02, size=(rows, cols)).astype(np.float32)
    groups = w.reshape(rows, cols // 32, 32)
    groups[0, 0] = 0.0  # all-zero group: scale floors at smallest_normal
    groups[0, 1] = np.append(np.arange(-15, 16, dtype=np.float32) * 0.5, 0.25)  # amax 7.5: scale 1, ties everywhere
    groups[0, 2] = (np.arange(32, dtype=np.float32) - 16.0) * 0.125  # −amax maps to −8, +max below 7
    groups[1, 0] = np.float32(1e-39) * (rng.integers(-5, 6, size=32))  # subnormal magnitudes
    groups[1, 1] = -np.abs(groups[1, 1])  # all negative: −amax maps to −8
    groups[1, 2] = np.abs(groups[1, 2])  # all positive: +amax maps to 7 (7.5 rounds to 8, clipped)
    groups[2, 0] = rng.normal(0.0, 1e30, size=32)  # huge
    groups[2, 1] = 0.0
    groups[2, 1, 7] = 3.0  # a single value: codes 0 except one clipped 7
    return bf16_values(w)


def torchao_linear_q4g32(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
    lin.weight.data = torch.from_numpy(w.copy())
    quantize_(lin, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4, weight_granularity=PerGroup(32)))
    t = lin.weight
    assert isinstance(t, IntxUnpackedToInt8Tensor), type(t)
    assert t.scale.dtype == torch.float32 and int(t.zero_point.abs().max()) == 0
    return t.qdata.numpy().astype(np.int8), t.scale.reshape(w.shape[0], -1).numpy().astype(np.float32)


def torchao_channelwise(w: np.ndarray, learned: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    hp = torch.from_numpy(w.copy())
    if learned is None:
        t = IntxUnpackedToInt8Tensor.from_hp(hp, (1, w.shape[1]), torch.int4, mapping_type=MappingType.SYMMETRIC)
    else:
        t = IntxUnpackedToInt8Tensor.from_hp(
            hp, (1, w.shape[1]), torch.int4, mapping_type=MappingType.SYMMETRIC,
            intx_choose_qparams_algorithm=None,
            custom_scale=torch.from_numpy(learned.copy()),
            custom_zero_point=torch.zeros((w.shape[0], 1), dtype=torch.int8))
    return t.qdata.numpy().astype(np.int8), t.scale.reshape(-1).numpy().astype(np.float32)


def torchao_int8_asym(x: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-block asymmetric int8 along the last axis, with the arguments of torchao's
    _apply_int8_act_asym_per_token_quant_dequant (intx_unpacked_to_int8_tensor.py)."""
    flat = torch.from_numpy(x.reshape(-1, block).copy())
    block_size = (1, block)
    scale, zp = choose_qparams_affine(flat, MappingType.ASYMMETRIC, block_size, target_dtype=torch.int8,
                                      quant_min=-128, quant_max=127, zero_point_dtype=torch.int8)
    q = quantize_affine(flat, block_size, scale, zp, output_dtype=torch.int8, quant_min=-128, quant_max=127)
    return (q.numpy().reshape(x.shape).astype(np.int8), scale.reshape(-1).numpy().astype(np.float32),
            zp.reshape(-1).numpy().astype(np.int8))


def activations(rows: int, cols: int) -> np.ndarray:
    x = rng.normal(0.0, 1.0, size=(rows, cols)).astype(np.float32)
    x *= np.float32(10.0) ** rng.uniform(-3, 2, size=(rows, 1)).astype(np.float32)
    x[0] = 0.0  # scale floors at smallest_normal, zp −128
    x[1] = np.abs(x[1])  # min clamps to 0
    x[2] = -np.abs(x[2])  # max clamps to 0
    x[3] = 0.0
    x[3, 5] = 1e-41  # subnormal range
    x[4] = np.linspace(-1.0, 1.0, cols, dtype=np.float32) * 127.5  # ties against a scale near 1
    x[5] = 4.0
    x[6, ::7] = 1e6  # one huge value per few: most codes collapse onto the zero point
    x[7] = rng.integers(-128, 128, size=cols).astype(np.float32)  # integer grid
    x[7, 0], x[7, 1] = -128.0, 127.0
    return x


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out: dict[str, np.ndarray] = {}

    w = weight_matrix(12, 32 * 9)
    out["q4g32.w"] = w
    out["q4g32.codes"], out["q4g32.scales"] = torchao_linear_q4g32(w)

    wc = weight_matrix(10, 32 * 5)
    learned = (np.abs(wc).max(axis=1, keepdims=True) / 7.5 * rng.uniform(0.6, 1.3, size=(10, 1))).astype(np.float32)
    learned[3] = 1e-3  # far below amax / 7.5: most codes clip
    out["q4cw.w"], out["q4cw.learned"] = wc, learned
    out["q4cw.codes"], scales = torchao_channelwise(wc, learned)
    assert np.array_equal(scales, learned.reshape(-1)), "torchao must use the learned scale as is"
    out["q4cw_amax.codes"], out["q4cw_amax.scales"] = torchao_channelwise(wc, None)

    x = activations(16, 333)
    out["act.x"] = x
    out["act.codes"], out["act.scales"], out["act.zps"] = torchao_int8_asym(x, 333)

    kv = activations(24, 4 * 64).reshape(24, 4, 64)
    out["kv.x"] = kv
    out["kv.codes"], out["kv.scales"], out["kv.zps"] = torchao_int8_asym(kv, 64)

    save_file(out, sys.argv[1], metadata={"torchao": __import__("torchao").__version__})
    print(f"wrote {sys.argv[1]}: {len(out)} tensors (torchao {__import__('torchao').__version__})")


if __name__ == "__main__":
    main()
