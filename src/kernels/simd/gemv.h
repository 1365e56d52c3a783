#pragma once
// Matmul for a few input rows (decode): memory bound, so each weight is read
// once, converted in registers and used for every input row. Weight rows go
// in tiles so one x load feeds several FMAs: 8 rows for a single input row
// (8 FMA chains, 8 memory streams), else 4 rows × 2 input rows.
#include <cstdint>

#include "kernels/simd/load.h"

namespace mobilellm::kernels::simd {
namespace {

// y[i*ldy + j] = x[i]·w[j] for kW weight rows and kX input rows, all of length k.
// Each row is prefetched min(row, 2 KB) ahead, running on into the same row of
// `next` (the next tile, or null) near its end: a tile's rows are short
// streams (2.5 KB for k = 1280), too short for the hardware prefetcher to
// ramp up on before they end. Measured on Zen 3: a whole row ahead suits
// k = 1280, 1–2 KB suits k = 6144 (a 12 KB row ahead overflows L1).
template <class D, class W, int kW, int kX>
void gemv_tile(const float* x, const typename W::T* w, int64_t k, float* y, int64_t ldy, const typename W::T* next) {
  using V = typename D::V;
  constexpr int N = D::kLanes;
  constexpr int U = kX == 1 && kW <= 4 ? 2 : 1;
  constexpr int64_t kLine = 64 / sizeof(typename W::T);
  constexpr int64_t kMaxAhead = 2048 / sizeof(typename W::T);
  const int64_t ahead = k < kMaxAhead ? k : kMaxAhead;
  V acc[kW][kX][U];
  for (auto& a : acc)
    for (auto& b : a)
      for (auto& c : b) c = D::zero();
  int64_t p = 0;
  for (; p + U * N <= k; p += U * N) {
    if (p % kLine < U * N) {
      if (p + ahead < k)
        for (int j = 0; j < kW; ++j) D::prefetch(w + j * k + p + ahead);
      else if (next)
        for (int j = 0; j < kW; ++j) D::prefetch(next + j * k + p + ahead - k);
    }
    for (int u = 0; u < U; ++u) {
      V xv[kX];
      for (int i = 0; i < kX; ++i) xv[i] = D::load(x + i * k + p + u * N);
      for (int j = 0; j < kW; ++j) {
        V wv = W::template load<D>(w + j * k + p + u * N);
        for (int i = 0; i < kX; ++i) acc[j][i][u] = D::fma(wv, xv[i], acc[j][i][u]);
      }
    }
  }
  for (; p < k; p += N) {
    int64_t left = k - p < N ? k - p : N;
    V xv[kX];
    for (int i = 0; i < kX; ++i) xv[i] = load_partial<D>(x + i * k + p, left);
    for (int j = 0; j < kW; ++j) {
      V wv = load_partial<D, W>(w + j * k + p, left);
      for (int i = 0; i < kX; ++i) acc[j][i][0] = D::fma(wv, xv[i], acc[j][i][0]);
    }
  }
  for (int j = 0; j < kW; ++j)
    for (int i = 0; i < kX; ++i) {
      V sum = acc[j][i][0];
      for (int u = 1; u < U; ++u) sum = D::add(sum, acc[j][i][u]);
      y[i * ldy + j] = D::reduce_add(sum);
    }
}

// Input rows go in pairs inside the loop over weight rows, so a weight tile
// is fetched from memory once and reread from L1 by the other pairs.
template <class D, class W, int kW>
void gemv_weight_tile(const float* x, int64_t m, const typename W::T* w, int64_t k, float* y, int64_t ldy,
                      const typename W::T* next) {
  int64_t i = 0;
  for (; i + 2 <= m; i += 2, next = nullptr) gemv_tile<D, W, kW, 2>(x + i * k, w, k, y + i * ldy, ldy, next);
  if (i < m) gemv_tile<D, W, kW, 1>(x + i * k, w, k, y + i * ldy, ldy, next);
}

template <class D, class W>
void gemv(const float* x, int64_t m, const typename W::T* w, int64_t k, int64_t n_begin, int64_t n_end, float* y,
          int64_t ldy) {
  int64_t n = n_begin;
  if (m == 1)
    for (; n + 8 <= n_end; n += 8)
      gemv_tile<D, W, 8, 1>(x, w + n * k, k, y + n, ldy, n + 16 <= n_end ? w + (n + 8) * k : nullptr);
  for (; n + 4 <= n_end; n += 4)
    gemv_weight_tile<D, W, 4>(x, m, w + n * k, k, y + n, ldy, n + 8 <= n_end ? w + (n + 4) * k : nullptr);
  for (; n < n_end; ++n) gemv_weight_tile<D, W, 1>(x, m, w + n * k, k, y + n, ldy, nullptr);
}

}  // namespace
}  // namespace mobilellm::kernels::simd
