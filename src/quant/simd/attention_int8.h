#pragma once
// Online-softmax attention of G query rows over an int8 KV head, written once
// against the float vector policies of kernels/ (Avx2, Neon: D) plus a loader
// L::load_i8 that widens D::kLanes int8 codes to floats. Keys go in blocks of
// D::kLanes so that a block's scores for one row are one vector (one vector
// exp per row per block). With qsum = Σ q:
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

template <class D, class L, int G>
void attention_rows(const float* q, const Int8KvHead& kv, int64_t n, int64_t head_dim, float scale,
                    const SoftmaxState& st) {
  using V = typename D::V;
  constexpr int N = D::kLanes;
  const int64_t chunks = head_dim / N;
  float qsum[G];
  for (int j = 0; j < G; ++j) {
    V s = D::zero();
    for (int64_t c = 0; c < chunks; ++c) s = D::add(s, D::load(q + j * head_dim + c * N));
    qsum[j] = D::reduce_add(s);
  }
  alignas(64) float score[G][N];
  alignas(64) float weight[G][N];
  alignas(64) float v_scale[N], v_zero[N];
  float correction[G], zero_term[G];
  for (int64_t b = 0; b < n; b += N) {
    const int nb = static_cast<int>(std::min<int64_t>(N, n - b));
    for (int t = 0; t < nb; ++t) {
      const int8_t* krow = kv.k + (b + t) * kv.row_stride;
      V acc[G];
      for (int j = 0; j < G; ++j) acc[j] = D::zero();
      for (int64_t c = 0; c < chunks; ++c) {
        const V kf = L::load_i8(krow + c * N);
        for (int j = 0; j < G; ++j) acc[j] = D::fma(D::load(q + j * head_dim + c * N), kf, acc[j]);
      }
      const float k_scale = f16_to_float(kv.k_scale[b + t]) * scale;
      const float k_zero = static_cast<float>(kv.k_zero[b + t]);
      for (int j = 0; j < G; ++j) score[j][t] = (D::reduce_add(acc[j]) - k_zero * qsum[j]) * k_scale;
      v_scale[t] = f16_to_float(kv.v_scale[b + t]);
      v_zero[t] = static_cast<float>(kv.v_zero[b + t]);
    }
    for (int t = nb; t < N; ++t) {
      for (int j = 0; j < G; ++j) score[j][t] = -std::numeric_limits<float>::infinity();
      v_scale[t] = v_zero[t] = 0.0f;
    }
    const V vs = D::load(v_scale), vz = D::load(v_zero);
    for (int j = 0; j < G; ++j) {
      const V s = D::load(score[j]);
      const float m_new = std::fmax(st.max[j], D::reduce_max(s));
      correction[j] = std::exp(st.max[j] - m_new);
      const V p = kernels::simd::exp<D>(D::sub(s, D::set1(m_new)));
      st.sum[j] = st.sum[j] * correction[j] + D::reduce_add(p);
      const V w = D::mul(p, vs);
      D::store(weight[j], w);
      zero_term[j] = D::reduce_add(D::mul(w, vz));
      st.max[j] = m_new;
    }
    for (int64_t c = 0; c < chunks; ++c) {
      V o[G];
      for (int j = 0; j < G; ++j)
        o[j] = D::fma(D::load(st.acc + j * head_dim + c * N), D::set1(correction[j]), D::set1(-zero_term[j]));
      for (int t = 0; t < nb; ++t) {
        const V vf = L::load_i8(kv.v + (b + t) * kv.row_stride + c * N);
        for (int j = 0; j < G; ++j) o[j] = D::fma(D::set1(weight[j][t]), vf, o[j]);
      }
      for (int j = 0; j < G; ++j) D::store(st.acc + j * head_dim + c * N, o[j]);
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
