// AVX2 table: u8 × s8 products with vpmaddubsw (no VNNI on these CPUs).
#include "quant/x86/q4_kernels_x86.h"

namespace mobilellm::quant {
namespace {

struct DotAvx2 {
  using Acc = __m256i;  // 16 int16 lanes
  static Acc zero() { return _mm256_setzero_si256(); }
  static Acc dot(Acc acc, __m256i u8, __m256i s8) { return _mm256_add_epi16(acc, _mm256_maddubs_epi16(u8, s8)); }
  static __m256i finish(Acc acc) { return _mm256_madd_epi16(acc, _mm256_set1_epi16(1)); }
};

}  // namespace

const QuantKernels kAvx2QuantKernels = {kernels::Isa::kAvx2, x86::quantize_rows, x86::q4_matmul_tiles<DotAvx2>,
                                        x86::attention_int8, x86::attention_int8_ranged};

}  // namespace mobilellm::quant
