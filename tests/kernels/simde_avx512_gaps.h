#pragma once
// The _mm512 intrinsics our AVX-512 kernels use that SIMDe 0.7.4 lacks, lane
// by lane as the Intel SDM defines them, for the emulated kernel tests
// (tests/kernels, tests/quant). Include after <simde/x86/avx512.h> with
// SIMDE_ENABLE_NATIVE_ALIASES.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "runtime/dtype.h"

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

simde__m512 emulated_cvtepi32_ps(simde__m512i a) {  // exact below 2²⁴, rounded to nearest even above
  int32_t in[16];
  float out[16];
  std::memcpy(in, &a, sizeof in);
  for (int i = 0; i < 16; ++i) out[i] = static_cast<float>(in[i]);
  simde__m512 r;
  std::memcpy(&r, out, sizeof r);
  return r;
}

}  // namespace

#define _mm512_cvtepu16_epi32 emulated_cvtepu16_epi32
#define _mm512_cvtph_ps emulated_cvtph_ps
#define _mm512_cvtps_epi32 emulated_cvtps_epi32
#define _mm512_cvtepi32_ps emulated_cvtepi32_ps
