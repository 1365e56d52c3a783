// NEON table with the int8 matrix-multiply extension (ARMv8.6 i8mm, smmla):
// one smmla multiplies a 2 × 8 block of s8 by another's transpose into a
// 2 × 2 block of int32, 32 products where sdot makes 16. The int4 GEMM runs
// tokens in pairs against pairs of weight rows, on the stored layout
// (q4_matrix.h) as it is: in a 16-byte half of a chunk the low nibbles hold
// columns 8c … 8c + 3 and the high nibbles 8c + 4 … 8c + 7 of rows 0–3 (4–7),
// so zipping the two by 32-bit lanes gives rows (0, 1) and (2, 3) each with
// its 8 columns in order: the smmla operand, with no repack. A lone last
// token is paired with itself and its copy dropped.
//
// The float work after the integer sums is the scalar twin's, operation for
// operation (this file and ref/quant_ref.cpp are built with
// -ffp-contract=off): the table matches the twin bit for bit.
// quantize_rows and the attention kernels are the dot-product table's.
#include <arm_neon.h>

#include <cstring>

#include "quant/arm/q4_tile_loop.h"
#include "quant/arm/quant_neon.h"
#include "quant/tables.h"

namespace mobilellm::quant {
namespace {

// Sums of one token pair over one block: rows (0, 1), (2, 3), (4, 5), (6, 7),
// each as [t0·r, t0·r+1, t1·r, t1·r+1] (smmla's 2 × 2 result, row-major).
struct PairSums {
  int32x4_t rows[4];
};

template <int P>
inline void block_mmla(const uint8_t* block, const int8_t* const* a, PairSums* out) {
  const uint8x16_t mask = vdupq_n_u8(0x0F);
  for (int p = 0; p < P; ++p)
    for (int j = 0; j < 4; ++j) out[p].rows[j] = vdupq_n_s32(0);
  for (int c = 0; c < 4; ++c) {
    int8x16_t w[4];
    for (int half = 0; half < 2; ++half) {
      const uint8x16_t raw = vld1q_u8(block + 32 * c + 16 * half);
      const uint32x4_t lo = vreinterpretq_u32_u8(vandq_u8(raw, mask));
      const uint32x4_t hi = vreinterpretq_u32_u8(vshrq_n_u8(raw, 4));
      w[2 * half] = vreinterpretq_s8_u32(vzip1q_u32(lo, hi));
      w[2 * half + 1] = vreinterpretq_s8_u32(vzip2q_u32(lo, hi));
    }
    for (int p = 0; p < P; ++p) {
      const int8x16_t tokens = vcombine_s8(vld1_s8(a[2 * p] + 8 * c), vld1_s8(a[2 * p + 1] + 8 * c));
      for (int j = 0; j < 4; ++j) out[p].rows[j] = vmmlaq_s32(out[p].rows[j], tokens, w[j]);
    }
  }
}

// [v0, v1, v0, v1] for rows (2j, 2j + 1) from rows 0–3 (lo) or 4–7 (hi).
inline float32x4_t row_pair(float32x4_t lo, float32x4_t hi, int j) {
  const float32x2_t pair = j == 0   ? vget_low_f32(lo)
                           : j == 1 ? vget_high_f32(lo)
                           : j == 2 ? vget_low_f32(hi)
                                    : vget_high_f32(hi);
  return vcombine_f32(pair, pair);
}

// Token t's 8 rows (lo: rows 0–3, hi: 4–7) from the pair layout, and back.
inline void to_token(const float32x4_t* pair, int t, float32x4_t* lo, float32x4_t* hi) {
  const auto half = [t](float32x4_t v) { return t == 0 ? vget_low_f32(v) : vget_high_f32(v); };
  *lo = vcombine_f32(half(pair[0]), half(pair[1]));
  *hi = vcombine_f32(half(pair[2]), half(pair[3]));
}
inline void from_tokens(float32x4_t lo0, float32x4_t hi0, float32x4_t lo1, float32x4_t hi1, float32x4_t* pair) {
  pair[0] = vcombine_f32(vget_low_f32(lo0), vget_low_f32(lo1));
  pair[1] = vcombine_f32(vget_high_f32(lo0), vget_high_f32(lo1));
  pair[2] = vcombine_f32(vget_low_f32(hi0), vget_low_f32(hi1));
  pair[3] = vcombine_f32(vget_high_f32(hi0), vget_high_f32(hi1));
}

struct I8mmKernel {
  // Between K blocks y holds each (token, row)'s running sum: fp32 for
  // kGroup32 and kAffine32, the int32 sum's bits for kChannel (the twin
  // converts that sum to float once, at the end).
  template <Q4Scheme kScheme, int T>
  static void tile_tokens(const Int8Rows& x, int64_t i0, const Q4Matrix& w, int64_t tile, int64_t g0, int64_t g1,
                          float* y, int64_t ldy) {
    constexpr int P = (T + 1) / 2;
    const int64_t groups = w.groups(), block_bytes = w.block_bytes();
    const int64_t row0 = tile * kQ4TileRows, live = std::min<int64_t>(kQ4TileRows, w.rows - row0);
    const int8_t* a[2 * P];
    const int32_t* terms[2 * P];
    for (int t = 0; t < 2 * P; ++t) {
      const int64_t token = i0 + std::min(t, T - 1);
      a[t] = x.q + token * x.cols + 32 * g0;
      terms[t] = x.group_term + token * groups;
    }
    // Running sums in the pair layout: float, or int32 bits for kChannel.
    float32x4_t acc[P][4];
    for (int p = 0; p < P; ++p) {
      float32x4_t lo[2], hi[2];
      for (int h = 0; h < 2; ++h) {
        float partial[kQ4TileRows] = {};
        if (g0 > 0 && 2 * p + h < T)
          std::memcpy(partial, y + (i0 + 2 * p + h) * ldy + row0, static_cast<size_t>(live) * sizeof(float));
        lo[h] = vld1q_f32(partial);
        hi[h] = vld1q_f32(partial + 4);
      }
      from_tokens(lo[0], hi[0], lo[1], hi[1], acc[p]);
    }
    const uint8_t* block = w.block(tile, g0);
    for (int64_t g = g0; g < g1; ++g, block += block_bytes) {
      PairSums d[P];
      block_mmla<P>(block, a, d);
      for (int p = 0; p < P; ++p) {
        const int32x4_t term = vcombine_s32(vdup_n_s32(terms[2 * p][g]), vdup_n_s32(terms[2 * p + 1][g]));
        if constexpr (kScheme == Q4Scheme::kGroup32) {
          // acc += float(dot − term) · amax
          const uint16x8_t amax = vld1q_u16(reinterpret_cast<const uint16_t*>(block + kQ4CodeBytes));
          const float32x4_t s_lo = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(amax), 16));
          const float32x4_t s_hi = vreinterpretq_f32_u32(vshll_n_u16(vget_high_u16(amax), 16));
          for (int j = 0; j < 4; ++j) {
            const float32x4_t v = vcvtq_f32_s32(vsubq_s32(d[p].rows[j], term));
            acc[p][j] = vaddq_f32(acc[p][j], vmulq_f32(v, row_pair(s_lo, s_hi, j)));
          }
        } else if constexpr (kScheme == Q4Scheme::kAffine32) {
          // acc += (float(dot) · d + float(term) · 0.125 · m): Σ q_x·(d·q + m), Σ q_x = term / 8
          const float16x8_t dh = vreinterpretq_f16_u8(vld1q_u8(block + kQ4CodeBytes));
          const float16x8_t mh = vreinterpretq_f16_u8(vld1q_u8(block + kQ4CodeBytes + 16));
          const float32x4_t d_lo = vcvt_f32_f16(vget_low_f16(dh)), d_hi = vcvt_high_f32_f16(dh);
          const float32x4_t m_lo = vcvt_f32_f16(vget_low_f16(mh)), m_hi = vcvt_high_f32_f16(mh);
          const float32x4_t sum_x = vmulq_n_f32(vcvtq_f32_s32(term), 0.125f);
          for (int j = 0; j < 4; ++j) {
            const float32x4_t scaled = vmulq_f32(vcvtq_f32_s32(d[p].rows[j]), row_pair(d_lo, d_hi, j));
            acc[p][j] = vaddq_f32(acc[p][j], vaddq_f32(scaled, vmulq_f32(sum_x, row_pair(m_lo, m_hi, j))));
          }
        } else {
          // Integer sum of dot − term; the float conversion comes once, at the end.
          for (int j = 0; j < 4; ++j)
            acc[p][j] =
                vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(acc[p][j]), vsubq_s32(d[p].rows[j], term)));
        }
      }
      for (int t = 0; t < 2 * P; ++t) a[t] += 32;
    }
    const bool last = g1 == groups;
    for (int t = 0; t < T; ++t) {
      float32x4_t lo, hi;
      to_token(acc[t / 2], t % 2, &lo, &hi);
      if (last) {
        if constexpr (kScheme == Q4Scheme::kGroup32) {
          lo = vmulq_n_f32(lo, kInvQ4Range);
          hi = vmulq_n_f32(hi, kInvQ4Range);
        } else if constexpr (kScheme == Q4Scheme::kChannel) {
          lo = vmulq_f32(vcvtq_f32_s32(vreinterpretq_s32_f32(lo)), vld1q_f32(w.row_scale + row0));
          hi = vmulq_f32(vcvtq_f32_s32(vreinterpretq_s32_f32(hi)), vld1q_f32(w.row_scale + row0 + 4));
        }
        // y = s_x · (a − z_x · row_term)
        const float zero = static_cast<float>(x.zero[i0 + t]), scale = x.scale[i0 + t];
        lo = vmulq_n_f32(vsubq_f32(lo, vmulq_n_f32(vld1q_f32(w.row_term + row0), zero)), scale);
        hi = vmulq_n_f32(vsubq_f32(hi, vmulq_n_f32(vld1q_f32(w.row_term + row0 + 4), zero)), scale);
      }
      float out[kQ4TileRows];
      vst1q_f32(out, lo);
      vst1q_f32(out + 4, hi);
      std::memcpy(y + (i0 + t) * ldy + row0, out, static_cast<size_t>(live) * sizeof(float));
    }
  }
};

}  // namespace

const QuantKernels kI8mmQuantKernels = {kernels::Isa::kI8mm, neon::quantize_rows, arm::q4_matmul_tiles<I8mmKernel>,
                                        neon::attention_int8, neon::attention_int8_ranged};

}  // namespace mobilellm::quant
