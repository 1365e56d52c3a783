#pragma once
// The per-element kernels of the forward pass: RMSNorm, interleaved RoPE,
// SiLU gating, residual add, and weight-row conversion. Each runs whole
// vectors and finishes the row with one zero-padded partial vector.
#include <cmath>
#include <cstdint>

#include "kernels/simd/exp.h"
#include "kernels/simd/load.h"
#include "runtime/dtype.h"

namespace mobilellm::kernels::simd {
namespace {

// out = x · 1/sqrt(mean(x²) + eps) · weight, as HF LlamaRMSNorm: normalise, then scale.
template <class D>
void rmsnorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  using V = typename D::V;
  constexpr int64_t N = D::kLanes;
  V s0 = D::zero(), s1 = D::zero();
  int64_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    V a = D::load(x + i), b = D::load(x + i + N);
    s0 = D::fma(a, a, s0);
    s1 = D::fma(b, b, s1);
  }
  for (; i < n; i += N) {
    V a = load_partial<D>(x + i, n - i < N ? n - i : N);
    s0 = D::fma(a, a, s0);
  }
  float mean = D::reduce_add(D::add(s0, s1)) / static_cast<float>(n);
  V scale = D::set1(1.0f / std::sqrt(mean + eps));
  for (i = 0; i < n; i += N) {
    int64_t left = n - i < N ? n - i : N;
    V v = D::mul(left == N ? D::load(x + i) : load_partial<D>(x + i, left), scale);
    if (weight) v = D::mul(v, left == N ? D::load(weight + i) : load_partial<D>(weight + i, left));
    if (left == N)
      D::store(out + i, v);
    else
      store_partial<D>(out + i, v, left);
  }
}

// Pairs (2i, 2i+1) of each head rotate by angle i:
//   x'₂ᵢ = x₂ᵢ·cosᵢ − x₂ᵢ₊₁·sinᵢ,  x'₂ᵢ₊₁ = x₂ᵢ·sinᵢ + x₂ᵢ₊₁·cosᵢ,
// i.e. x' = x·[c c] + swap_pairs(x)·[−s s] with cos/sin spread over both lanes of a pair.
template <class D>
void rope_interleaved(float* x, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin) {
  using V = typename D::V;
  constexpr int64_t N = D::kLanes;
  for (int64_t d = 0; d < head_dim; d += N) {
    int64_t left = head_dim - d < N ? head_dim - d : N;
    float c2[N], s2[N];
    for (int64_t l = 0; l < N; ++l) {
      int64_t i = (d + l) / 2;
      bool paired = i < head_dim / 2;  // an odd head's last element has no partner: identity
      c2[l] = paired ? cos[i] : 1.0f;
      s2[l] = paired ? ((d + l) % 2 ? sin[i] : -sin[i]) : 0.0f;
    }
    V c = D::load(c2), s = D::load(s2);
    for (int64_t h = 0; h < n_heads; ++h) {
      float* p = x + h * head_dim + d;
      V v = left == N ? D::load(p) : load_partial<D>(p, left);
      V r = D::fma(D::swap_pairs(v), s, D::mul(v, c));
      if (left == N)
        D::store(p, r);
      else
        store_partial<D>(p, r, left);
    }
  }
}

// out = gate / (1 + e^-gate) · up
template <class D>
typename D::V silu_mul_vec(typename D::V g, typename D::V u) {
  const typename D::V one = D::set1(1.0f);
  typename D::V e = exp<D>(D::sub(D::zero(), g));
  return D::mul(D::div(g, D::add(one, e)), u);
}

template <class D>
void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  constexpr int64_t N = D::kLanes;
  int64_t i = 0;
  for (; i + N <= n; i += N) D::store(out + i, silu_mul_vec<D>(D::load(gate + i), D::load(up + i)));
  if (i < n)
    store_partial<D>(out + i, silu_mul_vec<D>(load_partial<D>(gate + i, n - i), load_partial<D>(up + i, n - i)), n - i);
}

template <class D>
void add(float* y, const float* x, int64_t n) {
  constexpr int64_t N = D::kLanes;
  int64_t i = 0;
  for (; i + N <= n; i += N) D::store(y + i, D::add(D::load(y + i), D::load(x + i)));
  if (i < n) store_partial<D>(y + i, D::add(load_partial<D>(y + i, n - i), load_partial<D>(x + i, n - i)), n - i);
}

template <class D, class W>
void to_float_typed(const typename W::T* src, int64_t n, float* dst) {
  constexpr int64_t N = D::kLanes;
  int64_t i = 0;
  for (; i + N <= n; i += N) D::store(dst + i, W::template load<D>(src + i));
  if (i < n) store_partial<D>(dst + i, load_partial<D, W>(src + i, n - i), n - i);
}

template <class D>
void to_float(const void* src, DType dtype, int64_t n, float* dst) {
  switch (dtype) {
    case DType::kF32: return to_float_typed<D, F32Weights>(static_cast<const float*>(src), n, dst);
    case DType::kBF16: return to_float_typed<D, Bf16Weights>(static_cast<const uint16_t*>(src), n, dst);
    case DType::kF16: return to_float_typed<D, F16Weights>(static_cast<const uint16_t*>(src), n, dst);
  }
}

}  // namespace
}  // namespace mobilellm::kernels::simd
