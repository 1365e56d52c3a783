#pragma once
// The compiled-in QuantKernels tables, one per ISA file; dispatch.cpp chooses.
#include "quant/quant_kernels.h"

namespace mobilellm::quant {

extern const QuantKernels kScalarQuantKernels;  // ref/quant_ref.cpp
#if defined(__x86_64__)
extern const QuantKernels kAvx2QuantKernels;    // x86/quant_avx2.cpp
extern const QuantKernels kAvx512QuantKernels;  // x86/quant_avx512_vnni.cpp
extern const QuantKernels kAmxQuantKernels;     // x86/quant_amx.cpp
#endif
#if defined(__aarch64__)
extern const QuantKernels kNeonQuantKernels;  // arm/quant_neon_dot.cpp
extern const QuantKernels kI8mmQuantKernels;  // arm/quant_neon_i8mm.cpp
#endif

// Dequantization constant of kGroup32 blocks: scale = amax / 7.5 (the kernels
// apply it once per row instead of once per group).
constexpr float kInvQ4Range = 1.0f / 7.5f;

}  // namespace mobilellm::quant
