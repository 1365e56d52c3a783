#pragma once
// Attention of a GQA group: g query rows share one KV head, so every K and V
// row fetched is used by up to six query rows before the next is loaded.
#include <cstdint>

#include "kernels/simd/exp.h"
#include "kernels/simd/load.h"

namespace mobilellm::kernels::simd {
namespace {

// How far ahead K and V rows are prefetched: about a memory latency of work.
constexpr int64_t kPrefetchKeys = 8;

// s[r][t] = q[r]·K[t]·scale for R query rows (row stride head_dim) over all keys.
template <class D, int R>
void attention_scores(const float* q, int64_t head_dim, const float* k, int64_t kv_stride, int64_t n_keys, float scale,
                      float* s) {
  using V = typename D::V;
  constexpr int64_t N = D::kLanes;
  for (int64_t t = 0; t < n_keys; ++t) {
    const float* kt = k + t * kv_stride;
    // Rows of other heads lie between K rows, which defeats the hardware
    // prefetcher on long contexts; fetch a few keys ahead (never faults).
    for (int64_t d = 0; d < head_dim; d += 16) D::prefetch(kt + kPrefetchKeys * kv_stride + d);
    V acc[R];
    for (int r = 0; r < R; ++r) acc[r] = D::zero();
    int64_t d = 0;
    for (; d + N <= head_dim; d += N) {
      V kv = D::load(kt + d);
      for (int r = 0; r < R; ++r) acc[r] = D::fma(D::load(q + r * head_dim + d), kv, acc[r]);
    }
    if (d < head_dim) {
      V kv = load_partial<D>(kt + d, head_dim - d);
      for (int r = 0; r < R; ++r) acc[r] = D::fma(load_partial<D>(q + r * head_dim + d, head_dim - d), kv, acc[r]);
    }
    for (int r = 0; r < R; ++r) s[r * n_keys + t] = D::reduce_add(acc[r]) * scale;
  }
}

// s ← e^(s − max s) in place; returns Σ.
template <class D>
float softmax_numerators(float* s, int64_t n) {
  using V = typename D::V;
  constexpr int64_t N = D::kLanes;
  float max = s[0];
  int64_t t = 0;
  if (n >= N) {
    V m = D::load(s);
    for (t = N; t + N <= n; t += N) m = D::max(m, D::load(s + t));
    max = D::reduce_max(m);
  }
  for (; t < n; ++t) max = s[t] > max ? s[t] : max;
  V vmax = D::set1(max);
  V sum = D::zero();
  for (t = 0; t + N <= n; t += N) {
    V e = exp<D>(D::sub(D::load(s + t), vmax));
    D::store(s + t, e);
    sum = D::add(sum, e);
  }
  if (t < n) {
    // Zero padding would add e^(0 − max) to the sum: mask by storing only the live lanes and re-reading them.
    V e = exp<D>(D::sub(load_partial<D>(s + t, n - t), vmax));
    store_partial<D>(s + t, e, n - t);
    sum = D::add(sum, load_partial<D>(s + t, n - t));
  }
  return D::reduce_add(sum);
}

// out[r][d0, d0 + width) (+)= Σ_t p[r][t]·V[t][d0, d0 + width) for R rows over
// n keys, width = NV·N, or less than N in the one partial chunk of an odd
// head_dim. The first key block starts from zero, the last scales by inv[r].
template <class D, int R, int NV>
void attention_values(const float* p, int64_t ldp, const float* v, int64_t kv_stride, int64_t n, int64_t d0,
                      int64_t width, const float* inv, bool first, bool last, float* out, int64_t head_dim) {
  using V = typename D::V;
  constexpr int64_t N = D::kLanes;
  const bool full = width == NV * N;
  V acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c) {
      const float* o = out + r * head_dim + d0 + c * N;
      acc[r][c] = first ? D::zero() : full ? D::load(o) : load_partial<D>(o, width);
    }
  for (int64_t t = 0; t < n; ++t) {
    const float* vt = v + t * kv_stride + d0;
    D::prefetch(vt + kPrefetchKeys * kv_stride);
    V vv[NV];
    for (int c = 0; c < NV; ++c) vv[c] = full ? D::load(vt + c * N) : load_partial<D>(vt, width);
    for (int r = 0; r < R; ++r) {
      V pr = D::set1(p[r * ldp + t]);
      for (int c = 0; c < NV; ++c) acc[r][c] = D::fma(pr, vv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c) {
      V o = last ? D::mul(acc[r][c], D::set1(inv[r])) : acc[r][c];
      float* dst = out + r * head_dim + d0 + c * N;
      if (full)
        D::store(dst, o);
      else
        store_partial<D>(dst, o, width);
    }
}

template <class D, int R>
void attention_rows(const float* q, const float* k, const float* v, int64_t kv_stride, int64_t n_keys, int64_t head_dim,
                    float scale, float* out, float* s) {
  constexpr int64_t N = D::kLanes;
  // Keys per pass over a block of V: its rows stay in L1 while every chunk
  // of head_dim is accumulated, however long the context.
  constexpr int64_t kKeyBlock = 64;
  attention_scores<D, R>(q, head_dim, k, kv_stride, n_keys, scale, s);
  float inv[R];
  for (int r = 0; r < R; ++r) inv[r] = 1.0f / softmax_numerators<D>(s + r * n_keys, n_keys);
  for (int64_t t = 0; t < n_keys; t += kKeyBlock) {
    const int64_t n = n_keys - t < kKeyBlock ? n_keys - t : kKeyBlock;
    const bool first = t == 0, last = t + n == n_keys;
    const float* vb = v + t * kv_stride;
    int64_t d = 0;
    for (; d + 2 * N <= head_dim; d += 2 * N)
      attention_values<D, R, 2>(s + t, n_keys, vb, kv_stride, n, d, 2 * N, inv, first, last, out, head_dim);
    for (; d < head_dim; d += N) {
      int64_t width = head_dim - d < N ? head_dim - d : N;
      attention_values<D, R, 1>(s + t, n_keys, vb, kv_stride, n, d, width, inv, first, last, out, head_dim);
    }
  }
}

// Up to 6 query rows per pass: 12 accumulators in attention_values, and
// MobileLLM-Pro's group of 5 in a single pass over K and V.
template <class D>
void attention(const float* q, int64_t g, const float* k, const float* v, int64_t kv_stride, int64_t n_keys,
               int64_t head_dim, float scale, float* out, float* scratch) {
  int64_t j = 0;
  for (; g - j > 6; j += 6)
    attention_rows<D, 6>(q + j * head_dim, k, v, kv_stride, n_keys, head_dim, scale, out + j * head_dim,
                         scratch + j * n_keys);
  const float* qj = q + j * head_dim;
  float* oj = out + j * head_dim;
  float* sj = scratch + j * n_keys;
  switch (g - j) {
    case 6: return attention_rows<D, 6>(qj, k, v, kv_stride, n_keys, head_dim, scale, oj, sj);
    case 5: return attention_rows<D, 5>(qj, k, v, kv_stride, n_keys, head_dim, scale, oj, sj);
    case 4: return attention_rows<D, 4>(qj, k, v, kv_stride, n_keys, head_dim, scale, oj, sj);
    case 3: return attention_rows<D, 3>(qj, k, v, kv_stride, n_keys, head_dim, scale, oj, sj);
    case 2: return attention_rows<D, 2>(qj, k, v, kv_stride, n_keys, head_dim, scale, oj, sj);
    case 1: return attention_rows<D, 1>(qj, k, v, kv_stride, n_keys, head_dim, scale, oj, sj);
  }
}

}  // namespace
}  // namespace mobilellm::kernels::simd
