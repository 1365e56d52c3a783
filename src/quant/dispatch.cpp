// Chooses the QuantKernels table once per process: the widest ISA compiled in
// that this CPU runs, unless MOBILELLM_ISA names another.
#include "kernels/isa_dispatch.h"
#include "quant/tables.h"
#include "runtime/cpu_features.h"

namespace mobilellm::quant {
namespace {

using kernels::Isa;

const QuantKernels* compiled_table(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return &kScalarQuantKernels;
#if defined(__x86_64__)
    case Isa::kAvx2: return &kAvx2QuantKernels;
    case Isa::kAvx512: return &kAvx512QuantKernels;
    case Isa::kAmx: return &kAmxQuantKernels;
#endif
#if defined(__aarch64__)
    case Isa::kNeon: return &kNeonQuantKernels;
    case Isa::kI8mm: return &kI8mmQuantKernels;
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
    case Isa::kAmx: return cpu.avx512 && cpu.avx512_vnni && cpu.amx_int8;
    case Isa::kNeon: return cpu.neon && cpu.neon_dotprod;
    case Isa::kI8mm: return cpu.neon && cpu.neon_dotprod && cpu.neon_i8mm;
  }
  return false;
}

constexpr kernels::TableFamily<QuantKernels> kQuantFamily = {
    compiled_table, cpu_runs,
    "the quantized avx512 table needs AVX-512 VNNI, amx also AMX-INT8 and the kernel's tile-data permission, "
    "neon the dot-product extension, i8mm also the int8 matrix-multiply extension"};

}  // namespace

const QuantKernels* quant_kernels_for(Isa isa) { return kernels::table_for(kQuantFamily, isa); }

std::vector<Isa> runnable_quant_isas() { return kernels::runnable(kQuantFamily); }

const QuantKernels& quant_kernels() {
  static const QuantKernels& chosen = kernels::choose(kQuantFamily);
  return chosen;
}

}  // namespace mobilellm::quant
