// Compiled with -mavx2 -mfma -mf16c (see CMakeLists.txt); chosen at run time
// only on CPUs that have them.
#include "kernels/simd/table.h"
#include "kernels/tables.h"
#include "kernels/x86/vec_avx2.h"

namespace mobilellm::kernels {

constinit const FloatKernels kAvx2FloatKernels = simd::make_float_kernels<Avx2>(Isa::kAvx2);

}  // namespace mobilellm::kernels
