#pragma once
// The AVX-512 VNNI Dot policy of q4_kernels_x86.h: vpdpbusd on 256-bit
// registers (AVX512VL) sums four u8 × s8 products into each int32 lane.
// Its own header so that tests/quant can run it through SIMDe on CPUs
// without VNNI.
#include <immintrin.h>

namespace mobilellm::quant::x86 {
namespace {

struct DotVnni {
  using Acc = __m256i;  // 8 int32 lanes
  static Acc zero() { return _mm256_setzero_si256(); }
  static Acc dot(Acc acc, __m256i u8, __m256i s8) { return _mm256_dpbusd_epi32(acc, u8, s8); }
  static __m256i finish(Acc acc) { return acc; }
};

}  // namespace
}  // namespace mobilellm::quant::x86
