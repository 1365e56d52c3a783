// Chooses the FloatKernels table once per process: the widest ISA that was
// compiled in and that this CPU runs, unless MOBILELLM_ISA names another.
#include <cstdlib>
#include <string>

#include "kernels/float_kernels.h"
#include "kernels/isa_dispatch.h"
#include "kernels/tables.h"
#include "runtime/cpu_features.h"
#include "runtime/error.h"

namespace mobilellm::kernels {
namespace {

const FloatKernels* compiled_table(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return &kScalarFloatKernels;
#if defined(__x86_64__)
    case Isa::kAvx2: return &kAvx2FloatKernels;
    case Isa::kAvx512: return &kAvx512FloatKernels;
    case Isa::kAmx: return &kAvx512FloatKernels;  // AMX has no float kernels of its own
#endif
#if defined(__aarch64__)
    case Isa::kNeon: return &kNeonFloatKernels;
    case Isa::kI8mm: return &kNeonFloatKernels;  // i8mm has no float kernels of its own
#endif
    default: return nullptr;
  }
}

bool cpu_runs(Isa isa) {
  const CpuFeatures& cpu = cpu_features();
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2: return cpu.avx2;
    case Isa::kAvx512: return cpu.avx512;
    case Isa::kAmx: return cpu.avx512 && cpu.amx_int8;
    case Isa::kNeon: return cpu.neon;
    case Isa::kI8mm: return cpu.neon && cpu.neon_dotprod && cpu.neon_i8mm;
  }
  return false;
}

constexpr TableFamily<FloatKernels> kFloatFamily = {compiled_table, cpu_runs,
                                                    "amx needs AVX-512 and AMX-INT8 and runs the avx512 float kernels, "
                                                    "i8mm needs the dot-product and i8mm extensions and runs the neon "
                                                    "float kernels"};

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kAmx: return "amx";
    case Isa::kNeon: return "neon";
    case Isa::kI8mm: return "i8mm";
  }
  return "?";
}

std::optional<Isa> forced_isa() {
  const char* forced = std::getenv("MOBILELLM_ISA");
  if (!forced || !*forced) return std::nullopt;
  for (Isa isa : kAllIsas)
    if (std::string(forced) == isa_name(isa)) return isa;
  throw Error(std::string("MOBILELLM_ISA=") + forced +
              ": unknown ISA (expected scalar, avx2, avx512, amx, neon or i8mm)");
}

const FloatKernels* float_kernels_for(Isa isa) { return table_for(kFloatFamily, isa); }

std::vector<Isa> runnable_isas() { return runnable(kFloatFamily); }

const FloatKernels& float_kernels() {
  static const FloatKernels& chosen = choose(kFloatFamily);
  return chosen;
}

}  // namespace mobilellm::kernels
