// Compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl (see
// CMakeLists.txt); chosen at run time only on CPUs that have them.
#include "kernels/simd/table.h"
#include "kernels/tables.h"
#include "kernels/x86/vec_avx512.h"

namespace mobilellm::kernels {

constinit const FloatKernels kAvx512FloatKernels = simd::make_float_kernels<Avx512>(Isa::kAvx512);

}  // namespace mobilellm::kernels
