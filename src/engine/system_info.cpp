// SystemInfo (engine.h): the CPU features and the tables dispatch chooses.
#include "kernels/float_kernels.h"
#include "mobilellm/engine.h"
#include "quant/quant_kernels.h"
#include "runtime/cpu_features.h"

namespace mobilellm {

SystemInfo system_info() {
  return {describe(cpu_features()), kernels::isa_name(kernels::float_kernels().isa),
          kernels::isa_name(quant::quant_kernels().isa)};
}

}  // namespace mobilellm
