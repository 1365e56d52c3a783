// The tables under test in kernels_avx512_emulated_test: the AVX-512 table's
// own source (x86/vec_avx512.h and simd/), built with AVX2 flags on SIMDe's
// portable implementations of the _mm512 intrinsics. It proves the 16-lane
// logic (tiles, transposes, tails, reductions) on machines without AVX-512;
// the real table is the same source with native intrinsics.
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#include <cmath>
#include <cstring>

#include "kernel_test_util.h"
#include "runtime/dtype.h"

// SIMDe 0.7.4 lacks these three; lane by lane, as the Intel SDM defines them.
namespace {

simde__m512i emulated_cvtepu16_epi32(simde__m256i a) {
  uint16_t in[16];
  int32_t out[16];
  std::memcpy(in, &a, sizeof in);
  for (int i = 0; i < 16; ++i) out[i] = in[i];
  simde__m512i r;
  std::memcpy(&r, out, sizeof r);
  return r;
}

simde__m512 emulated_cvtph_ps(simde__m256i a) {
  uint16_t in[16];
  float out[16];
  std::memcpy(in, &a, sizeof in);
  for (int i = 0; i < 16; ++i) out[i] = mobilellm::f16_to_float(in[i]);
  simde__m512 r;
  std::memcpy(&r, out, sizeof r);
  return r;
}

simde__m512i emulated_cvtps_epi32(simde__m512 a) {  // round to nearest even, the default MXCSR mode
  float in[16];
  int32_t out[16];
  std::memcpy(in, &a, sizeof in);
  for (int i = 0; i < 16; ++i) out[i] = static_cast<int32_t>(std::nearbyint(in[i]));
  simde__m512i r;
  std::memcpy(&r, out, sizeof r);
  return r;
}

}  // namespace

#define _mm512_cvtepu16_epi32 emulated_cvtepu16_epi32
#define _mm512_cvtph_ps emulated_cvtph_ps
#define _mm512_cvtps_epi32 emulated_cvtps_epi32

#include "kernels/simd/table.h"
#include "kernels/x86/vec_avx512.h"

namespace mobilellm::kernels::test {
namespace {

constinit const FloatKernels kEmulatedAvx512 = simd::make_float_kernels<Avx512>(Isa::kAvx512);

}  // namespace

std::vector<const FloatKernels*> tables_under_test() { return {&kEmulatedAvx512}; }

}  // namespace mobilellm::kernels::test
