// The AVX-512 VNNI table's own source (x86/dot_vnni.h + x86/q4_kernels_x86.h)
// built with AVX2 flags, vpdpbusd supplied by SIMDe's portable version: proves
// the VNNI logic on machines without it. The real table is the same source
// with the native instruction.
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512/dpbusd.h>

#include "quant/x86/dot_vnni.h"
#include "quant/x86/q4_kernels_x86.h"
#include "tables_under_test.h"

namespace mobilellm::quant {
namespace {

const QuantKernels kEmulatedVnni = {kernels::Isa::kAvx512, x86::quantize_rows, x86::q4_matmul_tiles<x86::DotVnni>,
                                    x86::attention_int8, x86::attention_int8_ranged};

}  // namespace

std::vector<const QuantKernels*> tables_under_test() { return {&kEmulatedVnni}; }

}  // namespace mobilellm::quant
