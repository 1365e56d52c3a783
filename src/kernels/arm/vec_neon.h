#pragma once
// NEON (ARMv8-A AdvSIMD) instance of the vector abstraction that the kernels
// in simd/ are written against: 4 float lanes in a q register. Anonymous
// namespace for the same reason as x86/vec_avx2.h.
#include <arm_neon.h>

#include <cstdint>

namespace mobilellm::kernels {
namespace {

struct Neon {
  using V = float32x4_t;
  static constexpr int kLanes = 4;
  // GEMM micro-tile 6 rows × 4 vectors (16 columns): 24 accumulators, 4 B
  // vectors and 1 broadcast of the 32 q registers.
  static constexpr int kGemmRows = 6;
  static constexpr int kGemmVecs = 4;

  static V zero() { return vdupq_n_f32(0.0f); }
  static V set1(float v) { return vdupq_n_f32(v); }
  static V load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, V v) { vst1q_f32(p, v); }
  static V load_bf16(const uint16_t* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
  static V load_f16(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }

  static V add(V a, V b) { return vaddq_f32(a, b); }
  static V sub(V a, V b) { return vsubq_f32(a, b); }
  static V mul(V a, V b) { return vmulq_f32(a, b); }
  static V div(V a, V b) { return vdivq_f32(a, b); }
  static V min(V a, V b) { return vminq_f32(a, b); }
  static V max(V a, V b) { return vmaxq_f32(a, b); }
  static V fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static V round(V v) { return vrndnq_f32(v); }
  static V pow2i(V n) {
    int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
  static V select_gt(V a, V b, V x, V y) { return vbslq_f32(vcgtq_f32(a, b), x, y); }
  static V swap_pairs(V v) { return vrev64q_f32(v); }

  static float reduce_add(V v) { return vaddvq_f32(v); }
  static float reduce_max(V v) { return vmaxvq_f32(v); }

  static void transpose(V (&r)[kLanes]) {
    float32x4x2_t ab = vtrnq_f32(r[0], r[1]);  // a0 b0 a2 b2 | a1 b1 a3 b3
    float32x4x2_t cd = vtrnq_f32(r[2], r[3]);  // c0 d0 c2 d2 | c1 d1 c3 d3
    r[0] = vcombine_f32(vget_low_f32(ab.val[0]), vget_low_f32(cd.val[0]));
    r[1] = vcombine_f32(vget_low_f32(ab.val[1]), vget_low_f32(cd.val[1]));
    r[2] = vcombine_f32(vget_high_f32(ab.val[0]), vget_high_f32(cd.val[0]));
    r[3] = vcombine_f32(vget_high_f32(ab.val[1]), vget_high_f32(cd.val[1]));
  }

  static void prefetch(const void* p) { __builtin_prefetch(p); }
};

}  // namespace
}  // namespace mobilellm::kernels
