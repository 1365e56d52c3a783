// The tables under test in kernels_avx512_emulated_test: the AVX-512 table's
// own source (x86/vec_avx512.h and simd/), built with AVX2 flags on SIMDe's
// portable implementations of the _mm512 intrinsics. It proves the 16-lane
// logic (tiles, transposes, tails, reductions) on machines without AVX-512;
// the real table is the same source with native intrinsics.
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#include "kernel_test_util.h"
#include "simde_avx512_gaps.h"

#include "kernels/simd/table.h"
#include "kernels/x86/vec_avx512.h"

namespace mobilellm::kernels::test {
namespace {

constinit const FloatKernels kEmulatedAvx512 = simd::make_float_kernels<Avx512>(Isa::kAvx512);

}  // namespace

std::vector<const FloatKernels*> tables_under_test() { return {&kEmulatedAvx512}; }

}  // namespace mobilellm::kernels::test
