#pragma once
// Online-softmax attention of G query rows over an int8 KV head, written once
// against the float vector policies of kernels/ (Avx2, Neon: D) plus a loader
// L::load_i8 that widens D::kLanes int8 codes to floats. Keys go in blocks of
// kBlockKeys so that a block's scores for one row are a few vectors (vector
// exp, one max and one rescale per row per block). With qsum = Σ q:
//   score = (q·k_codes − k_zero·qsum) · k_scale · scale
//   acc   = acc·e^(m_old − m_new) + Σ_t p_t·v_scale_t·v_codes_t − Σ_t p_t·v_scale_t·v_zero_t
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

constexpr int kMaxAttentionRows = 8;

// Keys per softmax block: four vectors of scores per row, so that the
// per-block max, exp and rescale are amortized over many keys.
template <class D>
constexpr int kBlockKeys = 4 * D::kLanes;

template <class D, class L, int G>
void attention_rows(const float* q, const Int8KvHead& kv, int64_t n, int64_t head_dim, float scale,
                    const SoftmaxState& st) {
  using V = typename D::V;
  constexpr int N = D::kLanes, B = kBlockKeys<D>;
  const int64_t chunks = head_dim / N;
  float qsum[G];
  for (int j = 0; j < G; ++j) {
    V s = D::zero();
    for (int64_t c = 0; c < chunks; ++c) s = D::add(s, D::load(q + j * head_dim + c * N));
    qsum[j] = D::reduce_add(s);
  }
  alignas(64) float score[G][B];
  alignas(64) float weight[G][B];
  float correction[G], zero_term[G];
  // A short last block reads its scales and zero points from zero-padded copies.
  alignas(64) uint16_t pad_scale[2][B];
  alignas(64) int8_t pad_zero[2][B];
  for (int64_t b = 0; b < n; b += B) {
    const int nb = static_cast<int>(std::min<int64_t>(B, n - b));
    const uint16_t *k_scale = kv.k_scale + b, *v_scale = kv.v_scale + b;
    const int8_t *k_zero = kv.k_zero + b, *v_zero = kv.v_zero + b;
    if (nb < B) {
      for (int t = 0; t < B; ++t) {
        pad_scale[0][t] = t < nb ? k_scale[t] : 0;
        pad_scale[1][t] = t < nb ? v_scale[t] : 0;
        pad_zero[0][t] = t < nb ? k_zero[t] : 0;
        pad_zero[1][t] = t < nb ? v_zero[t] : 0;
      }
      k_scale = pad_scale[0], v_scale = pad_scale[1], k_zero = pad_zero[0], v_zero = pad_zero[1];
    }
    for (int t = 0; t < nb; ++t) {
      // Rows are row_stride apart (all KV heads of a position together): fetch
      // the next block's keys and this block's values ahead of their use.
      __builtin_prefetch(kv.k + (b + B + t) * kv.row_stride);
      __builtin_prefetch(kv.v + (b + t) * kv.row_stride);
      // Two accumulators per row (even and odd chunks) halve the FMA chains.
      const int8_t* krow = kv.k + (b + t) * kv.row_stride;
      V even[G], odd[G];
      for (int j = 0; j < G; ++j) even[j] = odd[j] = D::zero();
      int64_t c = 0;
      for (; c + 2 <= chunks; c += 2) {
        const V k0 = L::load_i8(krow + c * N), k1 = L::load_i8(krow + (c + 1) * N);
        for (int j = 0; j < G; ++j) {
          even[j] = D::fma(D::load(q + j * head_dim + c * N), k0, even[j]);
          odd[j] = D::fma(D::load(q + j * head_dim + (c + 1) * N), k1, odd[j]);
        }
      }
      if (c < chunks) {
        const V k0 = L::load_i8(krow + c * N);
        for (int j = 0; j < G; ++j) even[j] = D::fma(D::load(q + j * head_dim + c * N), k0, even[j]);
      }
      for (int j = 0; j < G; ++j) score[j][t] = D::reduce_add(D::add(even[j], odd[j]));
    }
    for (int t = nb; t < B; ++t)
      for (int j = 0; j < G; ++j) score[j][t] = 0.0f;
    // Dots → scores, a vector of keys at a time: (dot − k_zero·qsum) · k_scale · scale.
    for (int i = 0; i < B / N; ++i) {
      const V ks = D::mul(D::load_f16(k_scale + i * N), D::set1(scale));
      const V kz = L::load_i8(k_zero + i * N);
      for (int j = 0; j < G; ++j) {
        const V dot = D::load(score[j] + i * N);
        D::store(score[j] + i * N, D::mul(D::sub(dot, D::mul(kz, D::set1(qsum[j]))), ks));
      }
    }
    // Keys past the end get no weight.
    for (int t = nb; t < B; ++t)
      for (int j = 0; j < G; ++j) score[j][t] = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < G; ++j) {
      V m = D::load(score[j]);
      for (int i = 1; i < B / N; ++i) m = D::max(m, D::load(score[j] + i * N));
      const float m_new = std::fmax(st.max[j], D::reduce_max(m));
      // The running max changes rarely after the first blocks: skip the rescale then.
      correction[j] = m_new > st.max[j] ? std::exp(st.max[j] - m_new) : 1.0f;
      V sum = D::zero(), zt = D::zero();
      for (int i = 0; i < B / N; ++i) {
        const V p = kernels::simd::exp<D>(D::sub(D::load(score[j] + i * N), D::set1(m_new)));
        sum = D::add(sum, p);
        const V w = D::mul(p, D::load_f16(v_scale + i * N));
        D::store(weight[j] + i * N, w);
        zt = D::fma(w, L::load_i8(v_zero + i * N), zt);
      }
      st.sum[j] = st.sum[j] * correction[j] + D::reduce_add(sum);
      zero_term[j] = D::reduce_add(zt);
      st.max[j] = m_new;
    }
    for (int64_t c = 0; c < chunks; ++c) {
      V even[G], odd[G];
      for (int j = 0; j < G; ++j) {
        even[j] = D::fma(D::load(st.acc + j * head_dim + c * N), D::set1(correction[j]), D::set1(-zero_term[j]));
        odd[j] = D::zero();
      }
      int t = 0;
      for (; t + 2 <= nb; t += 2) {
        const V v0 = L::load_i8(kv.v + (b + t) * kv.row_stride + c * N);
        const V v1 = L::load_i8(kv.v + (b + t + 1) * kv.row_stride + c * N);
        for (int j = 0; j < G; ++j) {
          even[j] = D::fma(D::set1(weight[j][t]), v0, even[j]);
          odd[j] = D::fma(D::set1(weight[j][t + 1]), v1, odd[j]);
        }
      }
      if (t < nb) {
        const V v0 = L::load_i8(kv.v + (b + t) * kv.row_stride + c * N);
        for (int j = 0; j < G; ++j) even[j] = D::fma(D::set1(weight[j][t]), v0, even[j]);
      }
      for (int j = 0; j < G; ++j) D::store(st.acc + j * head_dim + c * N, D::add(even[j], odd[j]));
    }
  }
}

// Any g: rows in runs of up to kMaxAttentionRows. head_dim % D::kLanes == 0.
template <class D, class L>
void attention_int8(const float* q, int64_t g, const Int8KvHead& kv, int64_t n, int64_t head_dim, float scale,
                    const SoftmaxState& st) {
  for (int64_t j0 = 0; j0 < g; j0 += kMaxAttentionRows) {
    const SoftmaxState part{st.max + j0, st.sum + j0, st.acc + j0 * head_dim};
    const float* qj = q + j0 * head_dim;
    switch (std::min<int64_t>(kMaxAttentionRows, g - j0)) {
      case 1: attention_rows<D, L, 1>(qj, kv, n, head_dim, scale, part); break;
      case 2: attention_rows<D, L, 2>(qj, kv, n, head_dim, scale, part); break;
      case 3: attention_rows<D, L, 3>(qj, kv, n, head_dim, scale, part); break;
      case 4: attention_rows<D, L, 4>(qj, kv, n, head_dim, scale, part); break;
      case 5: attention_rows<D, L, 5>(qj, kv, n, head_dim, scale, part); break;
      case 6: attention_rows<D, L, 6>(qj, kv, n, head_dim, scale, part); break;
      case 7: attention_rows<D, L, 7>(qj, kv, n, head_dim, scale, part); break;
      default: attention_rows<D, L, 8>(qj, kv, n, head_dim, scale, part); break;
    }
  }
}

}  // namespace
}  // namespace mobilellm::quant::simd
