#pragma once
// The compiled-in FloatKernels tables, one per ISA file; dispatch.cpp chooses
// among them. Quantized kernel tables go beside these the same way.
#include "kernels/float_kernels.h"

namespace mobilellm::kernels {

extern const FloatKernels kScalarFloatKernels;  // ref/float_kernels_ref.cpp
#if defined(__x86_64__)
extern const FloatKernels kAvx2FloatKernels;    // x86/avx2.cpp
extern const FloatKernels kAvx512FloatKernels;  // x86/avx512.cpp
#endif
#if defined(__aarch64__)
extern const FloatKernels kNeonFloatKernels;  // arm/neon.cpp
#endif

}  // namespace mobilellm::kernels
