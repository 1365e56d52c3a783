#pragma once
// int4 weight codes of spec §4.1 (groupwise) and §4.2 (channelwise). Matches
// torchao's choose_qparams_affine(MappingType.SYMMETRIC, quant_min −8,
// quant_max 7) + quantize_affine on fp32 weights (docs/QUANTIZATION.md):
//   scale = max(amax / 7.5, FLT_MIN)      (7.5 = (7 − (−8)) / 2; FLT_MIN = finfo.smallest_normal)
//   q     = clamp(rne(w · (1 / scale)), −8, 7), zero point 0.
#include <cstdint>

namespace mobilellm::quant {

constexpr int64_t kQ4Group = 32;  // spec §4.1 group size along the input dimension

// Largest magnitude of n values (0 for n == 0).
float max_abs(const float* x, int64_t n);
// The scale of a block whose largest magnitude is amax. Division, not a
// multiply by 1/7.5, because torchao divides.
float q4_scale(float amax);
// One code: the reciprocal is taken once per block, as torchao does.
int8_t q4_code(float w, float inverse_scale);
// codes[i] = q4_code(w[i], 1 / scale) for i < n.
void q4_quantize(const float* w, int64_t n, float scale, int8_t* codes);
// Groupwise: n % group == 0; codes [n], scales [n / group].
void q4_quantize_groups(const float* w, int64_t n, int64_t group, int8_t* codes, float* scales);
// A group's amax as a q4g32 file stores it (bf16 bits): exact when it is a bf16
// number (bf16 checkpoints), else rounded up to the next bf16 so that no code clips.
uint16_t q4_stored_amax(float amax);

}  // namespace mobilellm::quant
