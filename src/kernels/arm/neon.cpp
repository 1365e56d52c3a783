// NEON is part of every ARMv8-A CPU: no extra flags, always runnable on aarch64.
#include "kernels/arm/vec_neon.h"
#include "kernels/simd/table.h"
#include "kernels/tables.h"

namespace mobilellm::kernels {

constinit const FloatKernels kNeonFloatKernels = simd::make_float_kernels<Neon>(Isa::kNeon);

}  // namespace mobilellm::kernels
