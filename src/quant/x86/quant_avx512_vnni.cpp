// AVX-512 VNNI table: vpdpbusd on 256-bit registers (AVX512VL), which sums
// four u8 × s8 products into each int32 lane in one instruction.
#include "quant/x86/q4_kernels_x86.h"

namespace mobilellm::quant {
namespace {

struct DotVnni {
  using Acc = __m256i;  // 8 int32 lanes
  static Acc zero() { return _mm256_setzero_si256(); }
  static Acc dot(Acc acc, __m256i u8, __m256i s8) { return _mm256_dpbusd_epi32(acc, u8, s8); }
  static __m256i finish(Acc acc) { return acc; }
};

}  // namespace

const QuantKernels kAvx512QuantKernels = {kernels::Isa::kAvx512, x86::quantize_rows, x86::q4_matmul_tiles<DotVnni>};

}  // namespace mobilellm::quant
