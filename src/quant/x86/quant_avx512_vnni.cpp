// AVX-512 VNNI table: the x86 kernels with the vpdpbusd Dot policy.
#include "quant/x86/dot_vnni.h"
#include "quant/x86/q4_kernels_x86.h"

namespace mobilellm::quant {

const QuantKernels kAvx512QuantKernels = {kernels::Isa::kAvx512, x86::quantize_rows, x86::q4_matmul_tiles<x86::DotVnni>,
                                          x86::attention_int8, x86::attention_int8_ranged};

}  // namespace mobilellm::quant
