#pragma once
// Matmul for many input rows (prefill), BLIS-style: weights are converted to
// fp32 once per block into a packed panel, inputs are packed per block, and a
// register-tiled micro-kernel computes MR×NR output tiles with broadcasts of A
// against vectors of B. Loop nest (outer to inner):
//   weight columns jc (NC) → depth pc (KC): pack B → input rows ic (MC): pack A
//   → B strips jr (NR, stays in L1) → A groups ir (MR, stream from L2) → kernel.
// Packed panels live in per-thread scratch (kernels/scratch.h).
#include <algorithm>
#include <cstdint>

#include "kernels/scratch.h"
#include "kernels/simd/load.h"

namespace mobilellm::kernels::simd {
namespace {

template <class D>
struct GemmBlocking {
  static constexpr int64_t kMr = D::kGemmRows;
  static constexpr int64_t kNr = D::kGemmVecs * D::kLanes;
  // A B strip of KC×NR floats (16 KB: KC = 256 for NR = 16) stays in L1
  // while the A groups of a row block stream past it.
  static constexpr int64_t kKc = 16384 / (kNr * 4);
  // An A block of MC×KC floats (~144 KB) stays in L2.
  static constexpr int64_t kMc = 144 / kMr * kMr;
  // A B panel of KC×NC floats (2 MB) stays in L3; every A block is packed
  // once per panel, so a wide panel keeps A packing rare.
  static constexpr int64_t kNc = 2048 / kNr * kNr;
};

// c[i][0, NR) = (accumulate ? c[i][0, NR) : 0) + Σ_p a[i][p]·b[p][0, NR) for i < rows,
// where a is a packed group of MR rows KC apart and b a packed [kc][NR] strip.
// The constant row stride makes every broadcast one pointer plus a fixed
// displacement, instead of MR pointers (12 for AVX-512) competing for registers.
template <class D>
void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t rows, bool accumulate) {
  using V = typename D::V;
  constexpr int kMr = D::kGemmRows;
  constexpr int kNv = D::kGemmVecs;
  constexpr int N = D::kLanes;
  V acc[kMr][kNv];
#pragma GCC unroll 16
  for (int i = 0; i < kMr; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < kNv; ++v) acc[i][v] = D::zero();
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    V bv[kNv];
#pragma GCC unroll 4
    for (int v = 0; v < kNv; ++v) bv[v] = D::load(b + v * N);
#pragma GCC unroll 16
    for (int i = 0; i < kMr; ++i) {
      V av = D::set1(a[i * GemmBlocking<D>::kKc + p]);
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) acc[i][v] = D::fma(av, bv[v], acc[i][v]);
    }
    b += kNv * N;
  }
  // Constant trip counts keep acc in registers; the row guard is a branch.
#pragma GCC unroll 16
  for (int i = 0; i < kMr; ++i) {
    if (i >= rows) break;
#pragma GCC unroll 4
    for (int v = 0; v < kNv; ++v) {
      float* cp = c + i * ldc + v * N;
      D::store(cp, accumulate ? D::add(acc[i][v], D::load(cp)) : acc[i][v]);
    }
  }
}

// Weight rows [0, nc) × columns [p0, p0 + kc) of w (row stride ldw) as fp32
// strips of NR rows: strip s is [kc][NR] with (p, j) = w[s·NR + j][p0 + p].
// Rows past nc are zero, so the micro-kernel always runs full width.
template <class D, class W>
void pack_b(const typename W::T* w, int64_t ldw, int64_t nc, int64_t p0, int64_t kc, float* panel) {
  using V = typename D::V;
  constexpr int64_t N = D::kLanes;
  constexpr int64_t kNr = GemmBlocking<D>::kNr;
  for (int64_t s = 0; s * kNr < nc; ++s) {
    float* strip = panel + s * kc * kNr;
    const typename W::T* src = w + s * kNr * ldw + p0;
    int64_t rows = std::min(kNr, nc - s * kNr);
    for (int64_t lb = 0; lb < kNr; lb += N) {
      const typename W::T* block = src + lb * ldw;
      float* dst = strip + lb;
      if (lb + N > rows) {  // the ragged last strip, element by element
        for (int64_t p = 0; p < kc; ++p)
          for (int64_t q = 0; q < N; ++q) dst[p * kNr + q] = lb + q < rows ? W::to_float(block[q * ldw + p]) : 0.0f;
        continue;
      }
      // The next block's rows are fetched from memory while this one is
      // transposed: one prefetch per row and cache line.
      const typename W::T* next = block + N * ldw;
      constexpr int64_t kLine = 64 / sizeof(typename W::T);
      int64_t p = 0;
      for (; p + N <= kc; p += N) {
        if (p % kLine == 0)
          for (int64_t q = 0; q < N; ++q) D::prefetch(next + q * ldw + p);
        V r[N];
        for (int64_t q = 0; q < N; ++q) r[q] = W::template load<D>(block + q * ldw + p);
        D::transpose(r);
        for (int64_t q = 0; q < N; ++q) D::store(dst + (p + q) * kNr, r[q]);
      }
      for (; p < kc; ++p)
        for (int64_t q = 0; q < N; ++q) dst[p * kNr + q] = W::to_float(block[q * ldw + p]);
    }
  }
}

// Input rows [0, mc) × columns [p0, p0 + kc) of x (row stride ldx) as groups
// of MR rows: group g is [MR][KC] with (i, p) = x[g·MR + i][p0 + p]; rows past
// mc are zero. Row-major is a plain vector copy, and the 1 KB row stride keeps
// the MR rows the micro-kernel broadcasts from in different L1 sets (x's own
// stride, 24 KB for the MLP down projection, would put them all in one).
template <class D>
void pack_a(const float* x, int64_t ldx, int64_t mc, int64_t p0, int64_t kc, float* panel) {
  constexpr int64_t kMr = GemmBlocking<D>::kMr;
  constexpr int64_t N = D::kLanes;
  constexpr int64_t kKc = GemmBlocking<D>::kKc;
  for (int64_t g = 0; g * kMr < mc; ++g) {
    float* dst = panel + g * kMr * kKc;
    for (int64_t i = 0; i < kMr; ++i) {
      int64_t row = g * kMr + i;
      float* d = dst + i * kKc;
      if (row >= mc) {
        for (int64_t p = 0; p < kc; ++p) d[p] = 0.0f;
        continue;
      }
      const float* src = x + row * ldx + p0;
      int64_t p = 0;
      for (; p + N <= kc; p += N) D::store(d + p, D::load(src + p));
      for (; p < kc; ++p) d[p] = src[p];
    }
  }
}

template <class D, class W>
void gemm(const float* x, int64_t m, const typename W::T* w, int64_t k, int64_t n_begin, int64_t n_end, float* y,
          int64_t ldy) {
  using B = GemmBlocking<D>;
  if (k == 0) {  // no depth block runs: the empty sum is 0
    for (int64_t i = 0; i < m; ++i)
      for (int64_t n = n_begin; n < n_end; ++n) y[i * ldy + n] = 0.0f;
    return;
  }
  float* b_panel = thread_scratch(B::kKc * B::kNc + B::kMc * B::kKc);
  float* a_panel = b_panel + B::kKc * B::kNc;
  // With a single row block every B strip is used once: pack it right before
  // use so it never leaves L1, instead of packing the whole panel first.
  const bool pack_strips = m <= B::kMc;
  for (int64_t jc = n_begin; jc < n_end; jc += B::kNc) {
    int64_t nc = std::min(B::kNc, n_end - jc);
    const typename W::T* wc = w + jc * k;
    for (int64_t pc = 0; pc < k; pc += B::kKc) {
      int64_t kc = std::min(B::kKc, k - pc);
      bool accumulate = pc > 0;
      if (!pack_strips) pack_b<D, W>(wc, k, nc, pc, kc, b_panel);
      for (int64_t ic = 0; ic < m; ic += B::kMc) {
        int64_t mc = std::min(B::kMc, m - ic);
        pack_a<D>(x + ic * k, k, mc, pc, kc, a_panel);
        for (int64_t jr = 0; jr < nc; jr += B::kNr) {
          int64_t cols = std::min(B::kNr, nc - jr);
          const float* b = b_panel + jr * kc;
          if (pack_strips) {
            pack_b<D, W>(wc + jr * k, k, cols, pc, kc, b_panel);
            b = b_panel;
          }
          for (int64_t ir = 0; ir < mc; ir += B::kMr) {
            const float* a = a_panel + ir * B::kKc;
            int64_t rows = std::min(B::kMr, mc - ir);
            float* c = y + (ic + ir) * ldy + jc + jr;
            if (cols == B::kNr) {
              micro_kernel<D>(kc, a, b, c, ldy, rows, accumulate);
              continue;
            }
            // Ragged right edge: run the full-width tile on a copy.
            float tile[B::kMr * B::kNr] = {};
            if (accumulate)
              for (int64_t i = 0; i < rows; ++i)
                for (int64_t j = 0; j < cols; ++j) tile[i * B::kNr + j] = c[i * ldy + j];
            micro_kernel<D>(kc, a, b, tile, B::kNr, rows, accumulate);
            for (int64_t i = 0; i < rows; ++i)
              for (int64_t j = 0; j < cols; ++j) c[i * ldy + j] = tile[i * B::kNr + j];
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace mobilellm::kernels::simd
