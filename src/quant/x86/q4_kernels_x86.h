#pragma once
// The x86 quantized kernels, written once against a Dot policy that sums
// u8 × s8 products of 4-byte groups into 32-bit lanes:
//   AVX2        vpmaddubsw into int16 (8 products of ≤ 15·128 per lane stay
//               below 2¹⁵ over a 32-column group), widened by vpmaddwd;
//   AVX-512     vpdpbusd (VNNI, on 256-bit registers: the same 32-byte chunks,
//               so both read the one layout of q4_matrix.h).
// Attention over the int8 KV cache is simd/attention_int8.h on 8-float vectors.
// Anonymous namespace: each ISA file compiles its own copy with its own flags,
// so the linker can never hand AVX-512 code to a CPU that only has AVX2.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/x86/vec_avx2.h"
#include "quant/int8_quant.h"
#include "quant/simd/attention_int8.h"
#include "quant/simd/attention_int8_ranged.h"
#include "quant/tables.h"

namespace mobilellm::quant::x86 {
namespace {

// Activation bytes of one K-block (all tokens). Each K-block boundary stores
// and reloads every partial sum and unpacks the tile's weights again, which
// costs more than streaming activations from L3 (BENCHMARKS.md "Tuned
// constants": larger blocks were faster up to 1.5 MB). So a
// prompt batch of 256 tokens is one K-block for every matrix of the model.
constexpr int64_t kKBlockBytes = 1536 * 1024;
constexpr int kTokenBlock = 4;
// Decode (one token) streams each thread's tiles once, front to back; the
// next kilobyte is requested ahead of use so the stream never waits on
// the hardware prefetcher's ramp-up at a tile or matrix boundary.
constexpr int64_t kDecodePrefetchBytes = 1024;

inline __m256i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

inline __m256 load_bf16x8(const uint8_t* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

// Lanes r < n of an 8-lane mask.
inline __m256i lane_mask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// A token block's activations over one K-block, interleaved so that a single
// pointer walks them (few live registers in the inner loop): for group g and
// token t, 32 codes at q + (g·T + t)·32 and the group term at terms[g·T + t].
struct Panel {
  const int8_t* q;
  const int32_t* terms;
};

// Copies tokens [i0, i0 + T) × groups [g0, g1) of x into panel layout.
inline void pack_panel(const Int8Rows& x, int64_t i0, int T, int64_t g0, int64_t g1, int8_t* q, int32_t* terms) {
  const int64_t groups = x.cols / 32;
  for (int64_t g = g0; g < g1; ++g)
    for (int t = 0; t < T; ++t) {
      std::memcpy(q + ((g - g0) * T + t) * 32, x.q + (i0 + t) * x.cols + 32 * g, 32);
      terms[(g - g0) * T + t] = x.group_term[(i0 + t) * groups + g];
    }
}

// acc[t] (lane r = row r of the tile) += the tile's products with the panel's
// tokens over groups [g0, g0 + n): Σ_g amax_g·(D − 8·Σq) for kGroup32, the
// exact integer Σ_g (D − 8·Σq) for kChannel (below 2²⁴, so exact in fp32),
// Σ_g d_g·D + m_g·Σq for kAffine32 (D = Σ q_x·nibble, Σq = group term / 8).
// The block is unpacked once into 8 registers and reused by every token.
template <class Dot, Q4Scheme kScheme, int T>
inline void tile_block(Panel panel, const Q4Matrix& w, int64_t tile, int64_t g0, int64_t n, __m256* acc) {
  const int64_t block_bytes = w.block_bytes();
  const __m256i mask = _mm256_set1_epi8(0x0F);
  __m256i iacc[T];
  for (int t = 0; t < T; ++t) iacc[t] = _mm256_setzero_si256();
  const uint8_t* block = w.block(tile, g0);
  const int8_t* a = panel.q;
  const int32_t* terms = panel.terms;
  for (int64_t g = 0; g < n; ++g, block += block_bytes, a += T * 32, terms += T) {
    if constexpr (T == 1)
      for (int64_t line = 0; line < block_bytes; line += 64)
        _mm_prefetch(reinterpret_cast<const char*>(block + kDecodePrefetchBytes + line), _MM_HINT_T0);
    // Chunk by chunk across the tokens: only one chunk's two unpacked halves
    // are live beside the T partial sums, so nothing spills to the stack.
    // Nibble half j of chunk c holds columns 8c + 4j ... 8c + 4j + 3.
    typename Dot::Acc s[T];
    for (int t = 0; t < T; ++t) s[t] = Dot::zero();
    for (int c = 0; c < 4; ++c) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32 * c));
      const __m256i lo = _mm256_and_si256(raw, mask);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), mask);
      for (int t = 0; t < T; ++t) {
        s[t] = Dot::dot(s[t], lo, broadcast4(a + t * 32 + 8 * c));
        s[t] = Dot::dot(s[t], hi, broadcast4(a + t * 32 + 8 * c + 4));
      }
    }
    if constexpr (kScheme == Q4Scheme::kAffine32) {
      const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + kQ4CodeBytes)));
      const __m256 m = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + kQ4CodeBytes + 16)));
      const __m256 m_eighth = _mm256_mul_ps(m, _mm256_set1_ps(0.125f));  // exact: a power of two
      for (int t = 0; t < T; ++t) {
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(Dot::finish(s[t])), d, acc[t]);
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(static_cast<float>(terms[t])), m_eighth, acc[t]);
      }
      continue;
    }
    [[maybe_unused]] const __m256 amax =
        kScheme == Q4Scheme::kGroup32 ? load_bf16x8(block + kQ4CodeBytes) : _mm256_setzero_ps();
    for (int t = 0; t < T; ++t) {
      const __m256i d = _mm256_sub_epi32(Dot::finish(s[t]), _mm256_set1_epi32(terms[t]));
      if constexpr (kScheme == Q4Scheme::kGroup32)
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d), amax, acc[t]);
      else
        iacc[t] = _mm256_add_epi32(iacc[t], d);
    }
  }
  if constexpr (kScheme == Q4Scheme::kChannel)
    for (int t = 0; t < T; ++t) acc[t] = _mm256_add_ps(acc[t], _mm256_cvtepi32_ps(iacc[t]));
}

// One token block of one tile over one K-block: the partial sums live in y
// between K-blocks; the last K-block turns them into outputs.
template <class Dot, Q4Scheme kScheme, int T>
inline void tile_tokens(Panel panel, const Int8Rows& x, int64_t i0, const Q4Matrix& w, int64_t tile, int64_t g0,
                        int64_t g1, float* y, int64_t ldy) {
  const int64_t row0 = tile * kQ4TileRows, live = std::min<int64_t>(kQ4TileRows, w.rows - row0);
  const __m256i mask = lane_mask(live);
  __m256 acc[T];
  for (int t = 0; t < T; ++t)
    acc[t] = g0 == 0 ? _mm256_setzero_ps() : _mm256_maskload_ps(y + (i0 + t) * ldy + row0, mask);
  tile_block<Dot, kScheme, T>(panel, w, tile, g0, g1 - g0, acc);
  const bool last = g1 == w.groups();
  const __m256 term = _mm256_loadu_ps(w.row_term + row0);
  const __m256 row_factor = kScheme == Q4Scheme::kChannel   ? _mm256_loadu_ps(w.row_scale + row0)
                            : kScheme == Q4Scheme::kGroup32 ? _mm256_set1_ps(kInvQ4Range)
                                                            : _mm256_set1_ps(1.0f);
  for (int t = 0; t < T; ++t) {
    __m256 out = acc[t];
    if (last) {
      const __m256 zero_term = _mm256_mul_ps(_mm256_set1_ps(static_cast<float>(x.zero[i0 + t])), term);
      out = _mm256_mul_ps(_mm256_set1_ps(x.scale[i0 + t]), _mm256_sub_ps(_mm256_mul_ps(out, row_factor), zero_term));
    }
    _mm256_maskstore_ps(y + (i0 + t) * ldy + row0, mask, out);
  }
}

template <class Dot, Q4Scheme kScheme, int T>
void tiles_for_block(Panel panel, const Int8Rows& x, int64_t i0, const Q4Matrix& w, int64_t tile_begin,
                     int64_t tile_end, int64_t g0, int64_t g1, float* y, int64_t ldy) {
  for (int64_t tile = tile_begin; tile < tile_end; ++tile)
    tile_tokens<Dot, kScheme, T>(panel, x, i0, w, tile, g0, g1, y, ldy);
}

// K-blocks outermost: a K-block of every token's activations (packed into
// panels once) stays in cache while the thread's tiles stream past it.
template <class Dot, Q4Scheme kScheme>
void matmul_tiles(const Int8Rows& x, int64_t m, const Q4Matrix& w, int64_t tile_begin, int64_t tile_end, float* y,
                  int64_t ldy) {
  const int64_t groups = w.groups();
  const int64_t k_block = std::clamp<int64_t>(kKBlockBytes / (32 * m), 4, groups);
  thread_local std::vector<int8_t> panel_q;
  thread_local std::vector<int32_t> panel_terms;
  for (int64_t g0 = 0; g0 < groups; g0 += k_block) {
    const int64_t g1 = std::min(groups, g0 + k_block);
    if (m == 1) {  // one token: the row itself is the panel
      tiles_for_block<Dot, kScheme, 1>({x.q + 32 * g0, x.group_term + g0}, x, 0, w, tile_begin, tile_end, g0, g1, y,
                                       ldy);
      continue;
    }
    panel_q.resize(static_cast<size_t>(m * (g1 - g0) * 32));
    panel_terms.resize(static_cast<size_t>(m * (g1 - g0)));
    for (int64_t i = 0; i < m; i += kTokenBlock) {
      const int T = static_cast<int>(std::min<int64_t>(kTokenBlock, m - i));
      pack_panel(x, i, T, g0, g1, panel_q.data() + i * (g1 - g0) * 32, panel_terms.data() + i * (g1 - g0));
    }
    for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
      for (int64_t i = 0; i < m; i += kTokenBlock) {
        const Panel panel{panel_q.data() + i * (g1 - g0) * 32, panel_terms.data() + i * (g1 - g0)};
        switch (std::min<int64_t>(kTokenBlock, m - i)) {
          case 4: tile_tokens<Dot, kScheme, 4>(panel, x, i, w, tile, g0, g1, y, ldy); break;
          case 3: tile_tokens<Dot, kScheme, 3>(panel, x, i, w, tile, g0, g1, y, ldy); break;
          case 2: tile_tokens<Dot, kScheme, 2>(panel, x, i, w, tile, g0, g1, y, ldy); break;
          default: tile_tokens<Dot, kScheme, 1>(panel, x, i, w, tile, g0, g1, y, ldy); break;
        }
      }
    }
  }
}

template <class Dot>
void q4_matmul_tiles(const Int8Rows& x, int64_t m, const Q4Matrix& w, int64_t tile_begin, int64_t tile_end, float* y,
                     int64_t ldy) {
  switch (w.scheme) {
    case Q4Scheme::kGroup32: return matmul_tiles<Dot, Q4Scheme::kGroup32>(x, m, w, tile_begin, tile_end, y, ldy);
    case Q4Scheme::kChannel: return matmul_tiles<Dot, Q4Scheme::kChannel>(x, m, w, tile_begin, tile_end, y, ldy);
    case Q4Scheme::kAffine32: return matmul_tiles<Dot, Q4Scheme::kAffine32>(x, m, w, tile_begin, tile_end, y, ldy);
  }
}

// Per-token quantization, bit-identical to int8_quantize_row: the same fp32
// multiply, round-half-even (vroundps), zero-point add and saturating packs.
inline void quantize_rows(const float* x, int64_t m, const Int8Rows& out) {
  const int64_t cols = out.cols, groups = cols / 32;
  for (int64_t i = 0; i < m; ++i) {
    const float* row = x + i * cols;
    __m256 vmin = _mm256_setzero_ps(), vmax = _mm256_setzero_ps();
    for (int64_t k = 0; k < cols; k += 8) {
      const __m256 v = _mm256_loadu_ps(row + k);
      vmin = _mm256_min_ps(vmin, v);
      vmax = _mm256_max_ps(vmax, v);
    }
    alignas(32) float lo[8], hi[8];
    _mm256_store_ps(lo, vmin);
    _mm256_store_ps(hi, vmax);
    const Int8Params p = int8_params_for_range(*std::min_element(lo, lo + 8), *std::max_element(hi, hi + 8));
    out.scale[i] = p.scale;
    out.zero[i] = p.zero_point;
    const __m256 inverse = _mm256_set1_ps(1.0f / p.scale);
    const __m256i zero_point = _mm256_set1_epi32(p.zero_point);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
    int8_t* q = out.q + i * cols;
    for (int64_t g = 0; g < groups; ++g) {
      __m256i v[4];
      for (int j = 0; j < 4; ++j) {
        const __m256 scaled = _mm256_mul_ps(_mm256_loadu_ps(row + 32 * g + 8 * j), inverse);
        const __m256 rounded = _mm256_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v[j] = _mm256_add_epi32(_mm256_cvtps_epi32(rounded), zero_point);
      }
      // packs work per 128-bit lane; the permute restores column order.
      const __m256i packed = _mm256_permutevar8x32_epi32(
          _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3])), order);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 32 * g), packed);
      // Σ q = Σ (q + 128) − 32·128, the biased bytes summed by vpsadbw.
      const __m256i sums = _mm256_sad_epu8(_mm256_xor_si256(packed, bias), _mm256_setzero_si256());
      const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
      const int64_t total = _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1) - 32 * 128;
      out.group_term[i * groups + g] = static_cast<int32_t>(8 * total);
    }
  }
}

struct LoadI8 {
  static __m256 load_i8(const int8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
};

// 256-bit vectors in both x86 tables; head sizes that are not a multiple of 8
// take the scalar twin.
inline void attention_int8(const float* q, int64_t g, const Int8KvHead& kv, int64_t n, int64_t head_dim, float scale,
                           const SoftmaxState& state) {
  if (head_dim % 8 != 0) return kScalarQuantKernels.attention_int8(q, g, kv, n, head_dim, scale, state);
  simd::attention_int8<kernels::Avx2, LoadI8>(q, g, kv, n, head_dim, scale, state);
}

inline void attention_int8_ranged(const RangedQueries& queries, const Int8KvHead& kv, int64_t head_dim, float scale,
                                  const SoftmaxState& state) {
  if (head_dim % 8 != 0 || head_dim > simd::kMaxRangedHeadDim)
    return kScalarQuantKernels.attention_int8_ranged(queries, kv, head_dim, scale, state);
  simd::attention_int8_ranged<kernels::Avx2, LoadI8>(queries, kv, head_dim, scale, state);
}

}  // namespace
}  // namespace mobilellm::quant::x86
