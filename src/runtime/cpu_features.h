#pragma once
// What the processor we run on can execute; read once, used to pick kernels.
#include <string>

namespace mobilellm {

struct CpuFeatures {
  bool avx2 = false;    // with FMA and F16C
  bool avx512 = false;  // F, BW, DQ, VL
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx_vnni = false;
  // AMX-TILE and AMX-INT8, the OS saves the tile state, and Linux granted
  // this process the tile data (arch_prctl, requested at detection).
  bool amx_int8 = false;
  bool neon = false;
  bool neon_dotprod = false;  // ARMv8.2 sdot/udot (HWCAP_ASIMDDP)
  bool neon_i8mm = false;     // ARMv8.6 int8 matrix multiply, smmla (HWCAP2_I8MM)
  // aarch64 code run by a user-mode emulator (qemu-user) on another
  // architecture: /proc/cpuinfo is the host's. Said in --version, and tests
  // use it to avoid what qemu-user cannot do.
  bool emulated = false;
};

const CpuFeatures& cpu_features();
std::string describe(const CpuFeatures& features);

}  // namespace mobilellm
