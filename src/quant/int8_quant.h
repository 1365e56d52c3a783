#pragma once
// int8 asymmetric codes of spec §4.3 (activations, per token) and §4.4 (KV
// cache, per token per KV head). Matches torchao's choose_qparams_affine(
// MappingType.ASYMMETRIC, int8, eps = finfo(float32).smallest_normal) +
// quantize_affine on fp32 input (docs/QUANTIZATION.md):
//   mn = min(min x, 0), mx = max(max x, 0)
//   scale = max((mx − mn) / 255, FLT_MIN)
//   zp    = clamp(−128 − rne(mn / scale), −128, 127)
//   q     = clamp(rne(x · (1 / scale)) + zp, −128, 127);  x ≈ (q − zp) · scale
#include <cstdint>

namespace mobilellm::quant {

struct Int8Params {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Parameters for values whose minimum is mn and maximum mx.
Int8Params int8_params_for_range(float mn, float mx);
// Parameters for n values.
Int8Params int8_params(const float* x, int64_t n);
int8_t int8_code(float x, float inverse_scale, int32_t zero_point);
// q[i] = int8_code(x[i], 1 / p.scale, p.zero_point).
void int8_quantize(const float* x, int64_t n, Int8Params p, int8_t* q);
// Both steps for one row; returns its parameters.
Int8Params int8_quantize_row(const float* x, int64_t n, int8_t* q);

}  // namespace mobilellm::quant
