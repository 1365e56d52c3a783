#pragma once
// The FloatKernels table of one ISA, built from the simd/ templates. Each ISA's
// .cpp includes its vector struct and this, and nothing else.
#include "kernels/float_kernels.h"
#include "kernels/simd/attention.h"
#include "kernels/simd/elementwise.h"
#include "kernels/simd/gemm.h"
#include "kernels/simd/gemv.h"
#include "kernels/simd/load.h"

namespace mobilellm::kernels::simd {
namespace {

// Below this many input rows, converting weights in registers (GEMV) beats
// packing them for the GEMM; measured on Zen 3 (AVX2), the two meet between
// 8 and 12 rows.
constexpr int64_t kGemmMinRows = 10;

template <class D, class W>
void matmul_typed(const float* x, int64_t m, const WeightMatrix& w, int64_t n_begin, int64_t n_end, float* y,
                  int64_t ldy) {
  const auto* data = static_cast<const typename W::T*>(w.data);
  if (m < kGemmMinRows)
    gemv<D, W>(x, m, data, w.cols, n_begin, n_end, y, ldy);
  else
    gemm<D, W>(x, m, data, w.cols, n_begin, n_end, y, ldy);
}

template <class D>
void matmul_range(const float* x, int64_t m, const WeightMatrix& w, int64_t n_begin, int64_t n_end, float* y,
                  int64_t ldy) {
  switch (w.dtype) {
    case DType::kF32: return matmul_typed<D, F32Weights>(x, m, w, n_begin, n_end, y, ldy);
    case DType::kBF16: return matmul_typed<D, Bf16Weights>(x, m, w, n_begin, n_end, y, ldy);
    case DType::kF16: return matmul_typed<D, F16Weights>(x, m, w, n_begin, n_end, y, ldy);
  }
}

template <class D>
constexpr FloatKernels make_float_kernels(Isa isa) {
  return FloatKernels{isa,          &matmul_range<D>, &rmsnorm<D>,  &rope_interleaved<D>,
                      &silu_mul<D>, &add<D>,          &to_float<D>, &attention<D>};
}

}  // namespace
}  // namespace mobilellm::kernels::simd
