// NEON table with the dot-product extension (ARMv8.2 sdot): four s8 × s8
// products per int32 lane. A weight nibble (0..15) is a valid s8, so the
// layout and the integer algebra are those of the x86 tables; a 32-byte
// chunk is two q registers (rows 0–3 and 4–7).
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "kernels/arm/vec_neon.h"
#include "quant/arm/q4_tile_loop.h"
#include "quant/arm/quant_neon.h"
#include "quant/int8_quant.h"
#include "quant/simd/attention_int8.h"
#include "quant/simd/attention_int8_ranged.h"
#include "quant/tables.h"

namespace mobilellm::quant {
namespace {

inline int8x16_t broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

// Rows 0–3 and 4–7 of one token's sums over one block.
struct Pair {
  int32x4_t lo, hi;
};

template <int T>
inline void block_dots(const uint8_t* block, const int8_t* const* a, Pair* out) {
  const uint8x16_t mask = vdupq_n_u8(0x0F);
  for (int t = 0; t < T; ++t) out[t] = {vdupq_n_s32(0), vdupq_n_s32(0)};
  for (int c = 0; c < 4; ++c) {
    const uint8x16_t raw0 = vld1q_u8(block + 32 * c), raw1 = vld1q_u8(block + 32 * c + 16);
    const int8x16_t lo0 = vreinterpretq_s8_u8(vandq_u8(raw0, mask)), hi0 = vreinterpretq_s8_u8(vshrq_n_u8(raw0, 4));
    const int8x16_t lo1 = vreinterpretq_s8_u8(vandq_u8(raw1, mask)), hi1 = vreinterpretq_s8_u8(vshrq_n_u8(raw1, 4));
    for (int t = 0; t < T; ++t) {
      const int8x16_t al = broadcast4(a[t] + 8 * c), ah = broadcast4(a[t] + 8 * c + 4);
      out[t].lo = vdotq_s32(vdotq_s32(out[t].lo, lo0, al), hi0, ah);
      out[t].hi = vdotq_s32(vdotq_s32(out[t].hi, lo1, al), hi1, ah);
    }
  }
}

// The factor of the accumulated sums of rows row0 … row0 + 3: 1 / 7.5 (the
// amax of kGroup32 is the scale's numerator), the row scale (kChannel), 1 (kAffine32).
template <Q4Scheme kScheme>
inline float32x4_t row_factor(const Q4Matrix& w, int64_t row0) {
  if constexpr (kScheme == Q4Scheme::kChannel) return vld1q_f32(w.row_scale + row0);
  return vdupq_n_f32(kScheme == Q4Scheme::kGroup32 ? kInvQ4Range : 1.0f);
}

template <Q4Scheme kScheme, int T>
inline void tile_tokens(const Int8Rows& x, int64_t i0, const Q4Matrix& w, int64_t tile, int64_t g0, int64_t g1,
                        float* y, int64_t ldy) {
  const int64_t groups = w.groups(), block_bytes = w.block_bytes();
  const int64_t row0 = tile * kQ4TileRows, live = std::min<int64_t>(kQ4TileRows, w.rows - row0);
  float32x4_t acc_lo[T], acc_hi[T];
  int32x4_t iacc_lo[T], iacc_hi[T];
  const int8_t* a[T];
  const int32_t* terms[T];
  for (int t = 0; t < T; ++t) {
    a[t] = x.q + (i0 + t) * x.cols + 32 * g0;
    terms[t] = x.group_term + (i0 + t) * groups;
    iacc_lo[t] = iacc_hi[t] = vdupq_n_s32(0);
    acc_lo[t] = acc_hi[t] = vdupq_n_f32(0.0f);
    if (g0 > 0) {
      float partial[kQ4TileRows] = {};
      std::memcpy(partial, y + (i0 + t) * ldy + row0, static_cast<size_t>(live) * sizeof(float));
      acc_lo[t] = vld1q_f32(partial);
      acc_hi[t] = vld1q_f32(partial + 4);
    }
  }
  const uint8_t* block = w.block(tile, g0);
  for (int64_t g = g0; g < g1; ++g, block += block_bytes) {
    Pair d[T];
    block_dots<T>(block, a, d);
    if constexpr (kScheme == Q4Scheme::kAffine32) {
      // Σ q_x·(d·q + m) = d·D + m·Σq, Σq = group term / 8.
      const float16x8_t dh = vreinterpretq_f16_u8(vld1q_u8(block + kQ4CodeBytes));
      const float16x8_t mh = vreinterpretq_f16_u8(vld1q_u8(block + kQ4CodeBytes + 16));
      const float32x4_t d_lo = vcvt_f32_f16(vget_low_f16(dh)), d_hi = vcvt_high_f32_f16(dh);
      const float32x4_t m_lo = vmulq_n_f32(vcvt_f32_f16(vget_low_f16(mh)), 0.125f);
      const float32x4_t m_hi = vmulq_n_f32(vcvt_high_f32_f16(mh), 0.125f);
      for (int t = 0; t < T; ++t) {
        const float sum = static_cast<float>(terms[t][g]);
        acc_lo[t] = vfmaq_n_f32(vfmaq_f32(acc_lo[t], vcvtq_f32_s32(d[t].lo), d_lo), m_lo, sum);
        acc_hi[t] = vfmaq_n_f32(vfmaq_f32(acc_hi[t], vcvtq_f32_s32(d[t].hi), d_hi), m_hi, sum);
        a[t] += 32;
      }
      continue;
    }
    for (int t = 0; t < T; ++t) {
      const int32x4_t term = vdupq_n_s32(terms[t][g]);
      const int32x4_t lo = vsubq_s32(d[t].lo, term), hi = vsubq_s32(d[t].hi, term);
      if constexpr (kScheme == Q4Scheme::kGroup32) {
        const uint16x8_t amax = vld1q_u16(reinterpret_cast<const uint16_t*>(block + kQ4CodeBytes));
        const float32x4_t s_lo = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(amax), 16));
        const float32x4_t s_hi = vreinterpretq_f32_u32(vshll_n_u16(vget_high_u16(amax), 16));
        acc_lo[t] = vfmaq_f32(acc_lo[t], vcvtq_f32_s32(lo), s_lo);
        acc_hi[t] = vfmaq_f32(acc_hi[t], vcvtq_f32_s32(hi), s_hi);
      } else {
        iacc_lo[t] = vaddq_s32(iacc_lo[t], lo);
        iacc_hi[t] = vaddq_s32(iacc_hi[t], hi);
      }
      a[t] += 32;
    }
  }
  const bool last = g1 == groups;
  for (int t = 0; t < T; ++t) {
    float32x4_t lo = acc_lo[t], hi = acc_hi[t];
    if constexpr (kScheme == Q4Scheme::kChannel) {
      lo = vaddq_f32(lo, vcvtq_f32_s32(iacc_lo[t]));
      hi = vaddq_f32(hi, vcvtq_f32_s32(iacc_hi[t]));
    }
    if (last) {
      const float32x4_t f_lo = row_factor<kScheme>(w, row0), f_hi = row_factor<kScheme>(w, row0 + 4);
      const float32x4_t zero = vdupq_n_f32(static_cast<float>(x.zero[i0 + t]));
      const float32x4_t scale = vdupq_n_f32(x.scale[i0 + t]);
      lo = vmulq_f32(scale, vsubq_f32(vmulq_f32(lo, f_lo), vmulq_f32(zero, vld1q_f32(w.row_term + row0))));
      hi = vmulq_f32(scale, vsubq_f32(vmulq_f32(hi, f_hi), vmulq_f32(zero, vld1q_f32(w.row_term + row0 + 4))));
    }
    float out[kQ4TileRows];
    vst1q_f32(out, lo);
    vst1q_f32(out + 4, hi);
    std::memcpy(y + (i0 + t) * ldy + row0, out, static_cast<size_t>(live) * sizeof(float));
  }
}

struct DotKernel {
  template <Q4Scheme kScheme, int T>
  static void tile_tokens(const Int8Rows& x, int64_t i0, const Q4Matrix& w, int64_t tile, int64_t g0, int64_t g1,
                          float* y, int64_t ldy) {
    quant::tile_tokens<kScheme, T>(x, i0, w, tile, g0, g1, y, ldy);
  }
};

}  // namespace

namespace neon {

// Bit-identical to int8_quantize_row: fp32 multiply, frintn (half to even),
// zero-point add, saturating narrows.
void quantize_rows(const float* x, int64_t m, const Int8Rows& out) {
  const int64_t cols = out.cols, groups = cols / 32;
  for (int64_t i = 0; i < m; ++i) {
    const float* row = x + i * cols;
    float32x4_t vmin = vdupq_n_f32(0.0f), vmax = vdupq_n_f32(0.0f);
    for (int64_t k = 0; k < cols; k += 4) {
      const float32x4_t v = vld1q_f32(row + k);
      vmin = vminq_f32(vmin, v);
      vmax = vmaxq_f32(vmax, v);
    }
    const Int8Params p = int8_params_for_range(vminvq_f32(vmin), vmaxvq_f32(vmax));
    out.scale[i] = p.scale;
    out.zero[i] = p.zero_point;
    const float32x4_t inverse = vdupq_n_f32(1.0f / p.scale);
    const int32x4_t zero_point = vdupq_n_s32(p.zero_point);
    int8_t* q = out.q + i * cols;
    for (int64_t g = 0; g < groups; ++g) {
      int8x8_t bytes[4];
      for (int j = 0; j < 4; ++j) {
        int16x4_t half[2];
        for (int h = 0; h < 2; ++h) {
          const float32x4_t scaled = vmulq_f32(vld1q_f32(row + 32 * g + 8 * j + 4 * h), inverse);
          half[h] = vqmovn_s32(vaddq_s32(vcvtq_s32_f32(vrndnq_f32(scaled)), zero_point));
        }
        bytes[j] = vqmovn_s16(vcombine_s16(half[0], half[1]));
      }
      const int8x16_t first = vcombine_s8(bytes[0], bytes[1]), second = vcombine_s8(bytes[2], bytes[3]);
      vst1q_s8(q + 32 * g, first);
      vst1q_s8(q + 32 * g + 16, second);
      const int32_t sum = vaddlvq_s8(first) + vaddlvq_s8(second);
      out.group_term[i * groups + g] = 8 * sum;
    }
  }
}

namespace {
struct LoadI8 {
  static float32x4_t load_i8(const int8_t* p) {
    int32_t bytes;
    std::memcpy(&bytes, p, 4);
    const int16x8_t wide = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(bytes)));
    return vcvtq_f32_s32(vmovl_s16(vget_low_s16(wide)));
  }
};
}  // namespace

void attention_int8(const float* q, int64_t g, const Int8KvHead& kv, int64_t n, int64_t head_dim, float scale,
                    const SoftmaxState& state) {
  if (head_dim % 4 != 0) return kScalarQuantKernels.attention_int8(q, g, kv, n, head_dim, scale, state);
  simd::attention_int8<kernels::Neon, LoadI8>(q, g, kv, n, head_dim, scale, state);
}

void attention_int8_ranged(const RangedQueries& queries, const Int8KvHead& kv, int64_t head_dim, float scale,
                           const SoftmaxState& state) {
  if (head_dim % 4 != 0 || head_dim > simd::kMaxRangedHeadDim)
    return kScalarQuantKernels.attention_int8_ranged(queries, kv, head_dim, scale, state);
  simd::attention_int8_ranged<kernels::Neon, LoadI8>(queries, kv, head_dim, scale, state);
}

}  // namespace neon

const QuantKernels kNeonQuantKernels = {kernels::Isa::kNeon, neon::quantize_rows, arm::q4_matmul_tiles<DotKernel>,
                                        neon::attention_int8, neon::attention_int8_ranged};

}  // namespace mobilellm::quant
