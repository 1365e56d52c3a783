#pragma once
// Prefill attention over an int8 KV head, written once against the float
// vector policies of kernels/ (D) and an int8 loader L (as attention_int8.h).
// Query rows that share keys (the heads and neighbouring positions of a
// prefill block) go through the keys together, flash-attention style:
//   each block of kBlockKeys keys is dequantized once into fp32, K transposed
//   ([dim][key]) so that scores are a small GEMM with keys across the lanes
//   (no horizontal sums), V as rows;
//   then for each tile of kTileRows rows: scores, the rows' own key ranges
//   masked, online-softmax update, and acc += p·V, also as a small GEMM.
// Dequantized values are (code − zero)·scale, the same as the scalar twin's.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/simd/exp.h"
#include "quant/int8_attention.h"
#include "runtime/dtype.h"

namespace mobilellm::quant::simd {
// Anonymous: each ISA's translation unit keeps its own copy.
namespace {

// The fp32 copies of a key block live on the stack: head sizes up to this.
constexpr int64_t kMaxRangedHeadDim = 256;
// Rows per register tile: 2 vectors of keys (or of dims) × 4 rows = 8
// accumulators, with room for the operands in 16 registers.
constexpr int kTileRows = 4;

template <class D>
constexpr int kRangedBlockKeys = 4 * D::kLanes;

// kt[d·B + t] = k̂[b + t][d] and vf[t·head_dim + d] = v̂[b + t][d] for t < nb;
// zero for the keys of a short block past nb.
template <class D, class L>
void dequantize_block(const Int8KvHead& kv, int64_t b, int nb, int64_t head_dim, float* kt, float* vf) {
  using V = typename D::V;
  constexpr int N = D::kLanes, B = kRangedBlockKeys<D>;
  float k_scale[B], k_zero[B], v_scale[B], v_zero[B];
  for (int t = 0; t < B; ++t) {
    const bool live = t < nb;
    k_scale[t] = live ? f16_to_float(kv.k_scale[b + t]) : 0.0f;
    v_scale[t] = live ? f16_to_float(kv.v_scale[b + t]) : 0.0f;
    k_zero[t] = live ? kv.k_zero[b + t] : 0.0f;
    v_zero[t] = live ? kv.v_zero[b + t] : 0.0f;
  }
  for (int t0 = 0; t0 < B; t0 += N)
    for (int64_t c = 0; c < head_dim; c += N) {
      V r[N];
      for (int i = 0; i < N; ++i)
        r[i] = t0 + i < nb
                   ? D::mul(D::sub(L::load_i8(kv.k + (b + t0 + i) * kv.row_stride + c), D::set1(k_zero[t0 + i])),
                            D::set1(k_scale[t0 + i]))
                   : D::zero();
      D::transpose(r);
      for (int i = 0; i < N; ++i) D::store(kt + (c + i) * B + t0, r[i]);
    }
  for (int t = 0; t < B; ++t)
    for (int64_t c = 0; c < head_dim; c += N)
      D::store(vf + t * head_dim + c,
               t < nb ? D::mul(D::sub(L::load_i8(kv.v + (b + t) * kv.row_stride + c), D::set1(v_zero[t])),
                               D::set1(v_scale[t]))
                      : D::zero());
}

// Rows r0 .. r0 + R over the dequantized block [b, b + nb).
template <class D, int R>
void tile_rows(const RangedQueries& rq, int64_t r0, int64_t b, int nb, const float* kt, const float* vf,
               int64_t head_dim, float scale, const SoftmaxState& st) {
  using V = typename D::V;
  constexpr int N = D::kLanes, B = kRangedBlockKeys<D>;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  // Each row's keys in this block, [lo, hi) ⊆ [0, nb).
  int lo[R], hi[R];
  bool any = false;
  for (int i = 0; i < R; ++i) {
    lo[i] = static_cast<int>(std::clamp<int64_t>(rq.first[r0 + i] - b, 0, nb));
    hi[i] = static_cast<int>(std::clamp<int64_t>(rq.end[r0 + i] - b, 0, nb));
    any |= lo[i] < hi[i];
  }
  if (!any) return;

  alignas(64) float p[R][B];
  for (int half = 0; half < B; half += 2 * N) {
    V acc[R][2];
    for (int i = 0; i < R; ++i) acc[i][0] = acc[i][1] = D::zero();
    for (int64_t d = 0; d < head_dim; ++d) {
      const V k0 = D::load(kt + d * B + half), k1 = D::load(kt + d * B + half + N);
      for (int i = 0; i < R; ++i) {
        const V q = D::set1(rq.q[r0 + i][d]);
        acc[i][0] = D::fma(q, k0, acc[i][0]);
        acc[i][1] = D::fma(q, k1, acc[i][1]);
      }
    }
    for (int i = 0; i < R; ++i) {
      D::store(p[i] + half, D::mul(acc[i][0], D::set1(scale)));
      D::store(p[i] + half + N, D::mul(acc[i][1], D::set1(scale)));
    }
  }

  float correction[R];
  for (int i = 0; i < R; ++i) {
    float* s = p[i];
    if (lo[i] >= hi[i]) {  // no keys here: weights 0, state unchanged
      std::fill(s, s + B, 0.0f);
      correction[i] = 1.0f;
      continue;
    }
    for (int t = 0; t < lo[i]; ++t) s[t] = kNegInf;
    for (int t = hi[i]; t < B; ++t) s[t] = kNegInf;
    const int64_t r = r0 + i;
    V m = D::load(s);
    for (int j = N; j < B; j += N) m = D::max(m, D::load(s + j));
    const float m_new = std::fmax(st.max[r], D::reduce_max(m));
    correction[i] = m_new > st.max[r] ? std::exp(st.max[r] - m_new) : 1.0f;
    V sum = D::zero();
    for (int j = 0; j < B; j += N) {
      const V e = kernels::simd::exp<D>(D::sub(D::load(s + j), D::set1(m_new)));
      sum = D::add(sum, e);
      D::store(s + j, e);
    }
    st.sum[r] = st.sum[r] * correction[i] + D::reduce_add(sum);
    st.max[r] = m_new;
  }

  // acc = acc·correction + p·V, two vectors of dims at a time.
  int64_t c = 0;
  for (; c + 2 * N <= head_dim; c += 2 * N) {
    V o[R][2];
    for (int i = 0; i < R; ++i) {
      float* a = st.acc + (r0 + i) * head_dim + c;
      o[i][0] = D::mul(D::load(a), D::set1(correction[i]));
      o[i][1] = D::mul(D::load(a + N), D::set1(correction[i]));
    }
    for (int t = 0; t < nb; ++t) {
      const V v0 = D::load(vf + t * head_dim + c), v1 = D::load(vf + t * head_dim + c + N);
      for (int i = 0; i < R; ++i) {
        const V w = D::set1(p[i][t]);
        o[i][0] = D::fma(w, v0, o[i][0]);
        o[i][1] = D::fma(w, v1, o[i][1]);
      }
    }
    for (int i = 0; i < R; ++i) {
      float* a = st.acc + (r0 + i) * head_dim + c;
      D::store(a, o[i][0]);
      D::store(a + N, o[i][1]);
    }
  }
  if (c < head_dim) {  // one vector of dims left
    V o[R];
    for (int i = 0; i < R; ++i) o[i] = D::mul(D::load(st.acc + (r0 + i) * head_dim + c), D::set1(correction[i]));
    for (int t = 0; t < nb; ++t) {
      const V v0 = D::load(vf + t * head_dim + c);
      for (int i = 0; i < R; ++i) o[i] = D::fma(D::set1(p[i][t]), v0, o[i]);
    }
    for (int i = 0; i < R; ++i) D::store(st.acc + (r0 + i) * head_dim + c, o[i]);
  }
}

// head_dim % D::kLanes == 0 and head_dim ≤ kMaxRangedHeadDim.
template <class D, class L>
void attention_int8_ranged(const RangedQueries& rq, const Int8KvHead& kv, int64_t head_dim, float scale,
                           const SoftmaxState& st) {
  constexpr int B = kRangedBlockKeys<D>;
  int64_t first = std::numeric_limits<int64_t>::max(), end = 0;
  for (int64_t r = 0; r < rq.rows; ++r)
    if (rq.first[r] < rq.end[r]) first = std::min(first, rq.first[r]), end = std::max(end, rq.end[r]);
  alignas(64) float kt[kMaxRangedHeadDim * B];
  alignas(64) float vf[B * kMaxRangedHeadDim];
  for (int64_t b = first; b < end; b += B) {
    const int nb = static_cast<int>(std::min<int64_t>(B, end - b));
    dequantize_block<D, L>(kv, b, nb, head_dim, kt, vf);
    int64_t r0 = 0;
    for (; r0 + kTileRows <= rq.rows; r0 += kTileRows)
      tile_rows<D, kTileRows>(rq, r0, b, nb, kt, vf, head_dim, scale, st);
    for (; r0 < rq.rows; ++r0) tile_rows<D, 1>(rq, r0, b, nb, kt, vf, head_dim, scale, st);
  }
}

}  // namespace
}  // namespace mobilellm::quant::simd
