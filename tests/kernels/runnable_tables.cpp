// The tables under test in kernels_test: every ISA this build has and this CPU runs.
#include "kernel_test_util.h"

namespace mobilellm::kernels::test {

std::vector<const FloatKernels*> tables_under_test() {
  std::vector<const FloatKernels*> tables;
  for (Isa isa : runnable_isas()) tables.push_back(float_kernels_for(isa));
  return tables;
}

}  // namespace mobilellm::kernels::test
