#!/usr/bin/env python3
"""ggml Q4_1 blocks from the `gguf` package for the q4_1 scheme's bit-identity and kernel tests.

    .venv/bin/python tools/reference/q4_1_reference.py OUT.safetensors

Writes one safetensors file; every value was computed by gguf-py (gguf.quants, the Python twin of
ggml's quantize_row_q4_1_ref / dequantize_row_q4_1):

  w [R, K] F32            weights
  blocks [R, K/32*20] U8  gguf.quants.quantize(w, GGMLQuantizationType.Q4_1), row by row
  dequant [R, K] F32      gguf.quants.dequantize(blocks, GGMLQuantizationType.Q4_1)
  x [T, K] F32            activations
  y [T, R] F32            x · dequantᵀ in float64, rounded once: the float reference

The weights mix Gaussian rows with the cases that break a careless quantizer: constant groups
(d = 0), codes landing exactly on .5 before truncation, all-negative and all-positive groups,
subnormal steps, a group spanning most of the fp16 range, and bf16-valued rows (what a bf16
checkpoint holds). Deterministic (numpy PCG64, fixed seed).
"""

from __future__ import annotations

import importlib.metadata
import sys

import numpy as np
from gguf import GGMLQuantizationType
from gguf.quants import dequantize, quantize
from safetensors.numpy import save_file

rng = np.random.default_rng(20251205)


def weights(rows: int, cols: int) -> np.ndarray:
    w = rng.normal(0.0, 0.02, size=(rows, cols)).astype(np.float32)
    g = w.reshape(rows, cols // 32, 32)
    g[0, 0] = 0.0  # d = 0: every code 0
    g[0, 1] = 0.75  # constant non-zero group
    g[0, 2] = np.arange(32, dtype=np.float32) * 0.5  # steps of half a code: ties at .5
    g[1, 0] = -np.abs(g[1, 0])  # all negative
    g[1, 1] = np.abs(g[1, 1]) + 1.0  # all positive, min far from 0
    g[1, 2] = np.float32(1e-6) * rng.integers(-5, 6, size=32)  # step below fp16's normal range
    g[2, 0] = rng.uniform(-60000.0, 60000.0, size=32)  # near the fp16 limit
    g[2, 1] = 0.0
    g[2, 1, 5] = 3.0  # a single value
    # bf16-valued rows (bf16 = the top 16 bits of an fp32)
    w[3:6] = (w[3:6].view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32)
    return w


def main() -> None:
    rows, cols, tokens = 37, 320, 5
    w = weights(rows, cols)
    blocks = quantize(w, GGMLQuantizationType.Q4_1)
    assert blocks.dtype == np.uint8 and blocks.shape == (rows, cols // 32 * 20), blocks.shape
    deq = dequantize(blocks, GGMLQuantizationType.Q4_1).astype(np.float32)
    x = (rng.normal(0.0, 1.0, size=(tokens, cols)) * rng.uniform(0.01, 3.0, size=(tokens, 1))
         + rng.normal(0.0, 0.5, size=(tokens, 1))).astype(np.float32)
    y = (x.astype(np.float64) @ deq.astype(np.float64).T).astype(np.float32)
    save_file({"w": w, "blocks": blocks, "dequant": deq, "x": x, "y": y}, sys.argv[1],
              metadata={"gguf": importlib.metadata.version("gguf")})


if __name__ == "__main__":
    main()
