#include "tables_under_test.h"

namespace mobilellm::quant {

std::vector<const QuantKernels*> tables_under_test() {
  std::vector<const QuantKernels*> out;
  for (auto isa : runnable_quant_isas()) out.push_back(quant_kernels_for(isa));
  return out;
}

}  // namespace mobilellm::quant
