#pragma once
// The tables a kernel test binary checks against the scalar twin: every table
// this CPU runs (runnable_tables.cpp), or the AVX-512 VNNI source run through
// SIMDe emulation (vnni_emulated_tables.cpp).
#include <vector>

#include "quant/quant_kernels.h"

namespace mobilellm::quant {

std::vector<const QuantKernels*> tables_under_test();

}  // namespace mobilellm::quant
