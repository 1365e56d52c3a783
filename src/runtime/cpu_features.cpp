#include "runtime/cpu_features.h"

#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>

#include <fstream>
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)  // Linux 5.10; older kernel headers lack the name
#endif
#endif

namespace mobilellm {
namespace {

#if defined(__x86_64__)
// Linux (5.16+) hands a process the 8 KB AMX tile data state only on request;
// without it the first tile instruction raises SIGILL.
bool amx_permitted() {
#if defined(__linux__)
  constexpr int kArchReqXcompPerm = 0x1023;  // ARCH_REQ_XCOMP_PERM (asm/prctl.h)
  constexpr int kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}
#endif

#if defined(__aarch64__) && defined(__linux__)
// An arm64 kernel names the CPU implementer of every core in /proc/cpuinfo;
// under qemu-user the file is the host's (x86: "vendor_id" and no implementer).
bool cpuinfo_is_foreign() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  if (!cpuinfo) return false;
  bool any_line = false;
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("CPU implementer", 0) == 0) return false;
    any_line = true;
  }
  return any_line;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__)
  // cpuid and xgetbv directly: GCC and Clang disagree on the feature names
  // __builtin_cpu_supports accepts, and a feature counts only when the OS
  // saves its registers on a context switch.
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12), f16c = c & (1u << 29);
  uint64_t xcr0 = 0;
  if (osxsave) {
    uint32_t lo = 0, hi = 0;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (uint64_t{hi} << 32) | lo;
  }
  const bool ymm_saved = (xcr0 & 0x6) == 0x6, zmm_saved = (xcr0 & 0xe6) == 0xe6;
  unsigned b7 = 0, c7 = 0, d7 = 0, a71 = 0;
  if (__get_cpuid_count(7, 0, &a, &b7, &c7, &d7)) {
    unsigned unused_b = 0, unused_c = 0;
    __get_cpuid_count(7, 1, &a71, &unused_b, &unused_c, &d);
  }
  f.avx2 = ymm_saved && avx && fma && f16c && (b7 & (1u << 5));
  f.avx512 = f.avx2 && zmm_saved && (b7 & (1u << 16)) && (b7 & (1u << 17)) && (b7 & (1u << 30)) && (b7 & (1u << 31));
  f.avx512_vnni = f.avx512 && (c7 & (1u << 11));
  f.avx512_bf16 = f.avx512 && (a71 & (1u << 5));
  f.avx_vnni = f.avx2 && (a71 & (1u << 4));
  const bool tiles_saved = (xcr0 & 0x60000) == 0x60000;  // XTILECFG, XTILEDATA
  f.amx_int8 = f.avx512 && tiles_saved && (d7 & (1u << 24)) && (d7 & (1u << 25)) && amx_permitted();
#elif defined(__aarch64__)
  f.neon = true;
#if defined(__linux__)
  f.neon_dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
  f.neon_i8mm = (getauxval(AT_HWCAP2) & HWCAP2_I8MM) != 0;
  f.emulated = cpuinfo_is_foreign();
#endif
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

std::string describe(const CpuFeatures& f) {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(f.avx2, "avx2");
  add(f.avx512, "avx512");
  add(f.avx512_vnni, "avx512-vnni");
  add(f.avx512_bf16, "avx512-bf16");
  add(f.avx_vnni, "avx-vnni");
  add(f.amx_int8, "amx-int8");
  add(f.neon, "neon");
  add(f.neon_dotprod, "neon-dotprod");
  add(f.neon_i8mm, "neon-i8mm");
  add(f.emulated, "(emulated)");
  return s.empty() ? "scalar" : s;
}

}  // namespace mobilellm
