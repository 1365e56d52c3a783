#pragma once
// AVX-512 (F, BW, DQ, VL) instance of the vector abstraction that the kernels
// in simd/ are written against: 16 float lanes in a zmm register. This machine
// may have no AVX-512; tests/kernels runs this same struct under an emulation
// of the intrinsics, so keep to plain, widely supported ones.
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/vec_avx2.h"

namespace mobilellm::kernels {
namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int kLanes = 16;
  // GEMM micro-tile 12 rows × 2 vectors (32 columns): 24 accumulators,
  // 2 B vectors and 1 broadcast of the 32 zmm registers.
  static constexpr int kGemmRows = 12;
  static constexpr int kGemmVecs = 2;

  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float v) { return _mm512_set1_ps(v); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V load_bf16(const uint16_t* p) {
    __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
  static V load_f16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }

  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V round(V v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V pow2i(V n) {
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static V select_gt(V a, V b, V x, V y) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), y, x); }
  static V swap_pairs(V v) { return _mm512_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1)); }

  static __m256 low(V v) { return _mm512_castps512_ps256(v); }
  static __m256 high(V v) { return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)); }
  static V combine(__m256 lo, __m256 hi) { return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1); }

  static float reduce_add(V v) { return Avx2::reduce_add(_mm256_add_ps(low(v), high(v))); }
  static float reduce_max(V v) { return Avx2::reduce_max(_mm256_max_ps(low(v), high(v))); }

  // 16×16 transpose as four 8×8 ones: [A B; C D]ᵀ = [Aᵀ Cᵀ; Bᵀ Dᵀ]. It runs
  // only when packing weights, where shuffle cost is noise next to the GEMM.
  static void transpose(V (&r)[kLanes]) {
    __m256 a[8], b[8], c[8], d[8];
    for (int i = 0; i < 8; ++i) {
      a[i] = low(r[i]);
      b[i] = high(r[i]);
      c[i] = low(r[i + 8]);
      d[i] = high(r[i + 8]);
    }
    Avx2::transpose(a);
    Avx2::transpose(b);
    Avx2::transpose(c);
    Avx2::transpose(d);
    for (int i = 0; i < 8; ++i) {
      r[i] = combine(a[i], c[i]);
      r[i + 8] = combine(b[i], d[i]);
    }
  }

  static void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }
};

}  // namespace
}  // namespace mobilellm::kernels
