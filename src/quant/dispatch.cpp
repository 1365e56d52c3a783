// Chooses the QuantKernels table once per process: the widest ISA compiled in
// that this CPU runs, unless MOBILELLM_ISA names another.
#include <cstdlib>
#include <string>

#include "quant/tables.h"
#include "runtime/cpu_features.h"
#include "runtime/error.h"

namespace mobilellm::quant {
namespace {

using kernels::Isa;

const QuantKernels* compiled_table(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return &kScalarQuantKernels;
#if defined(__x86_64__)
    case Isa::kAvx2: return &kAvx2QuantKernels;
    case Isa::kAvx512: return &kAvx512QuantKernels;
#endif
#if defined(__aarch64__)
    case Isa::kNeon: return &kNeonQuantKernels;
#endif
    default: return nullptr;
  }
}

// The quantized tables need the integer dot-product instructions, not only the vector width.
bool cpu_runs(Isa isa) {
  const CpuFeatures& cpu = cpu_features();
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2: return cpu.avx2;
    case Isa::kAvx512: return cpu.avx512 && cpu.avx512_vnni;
    case Isa::kNeon: return cpu.neon && cpu.neon_dotprod;
  }
  return false;
}

const QuantKernels& choose() {
  if (const std::optional<Isa> forced = kernels::forced_isa()) {
    if (const QuantKernels* table = quant_kernels_for(*forced)) return *table;
    throw Error(std::string("MOBILELLM_ISA=") + kernels::isa_name(*forced) +
                ": the quantized kernels for it are not compiled in or this CPU lacks their instructions "
                "(avx512 needs AVX-512 VNNI, neon the dot-product extension)");
  }
  return *quant_kernels_for(runnable_quant_isas().back());
}

}  // namespace

const QuantKernels* quant_kernels_for(Isa isa) { return cpu_runs(isa) ? compiled_table(isa) : nullptr; }

std::vector<Isa> runnable_quant_isas() {
  std::vector<Isa> isas;
  for (Isa isa : kernels::kAllIsas)
    if (quant_kernels_for(isa)) isas.push_back(isa);
  return isas;
}

const QuantKernels& quant_kernels() {
  static const QuantKernels& chosen = choose();
  return chosen;
}

}  // namespace mobilellm::quant
