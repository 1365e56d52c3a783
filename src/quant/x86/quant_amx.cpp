// AMX table: the int4 GEMM on int8 tiles (x86/q4_amx.h) for batches of at
// least kAmxMinTokens tokens; one token (decode) and small batches, attention
// and quantization run the AVX-512 VNNI kernels, which are faster there.
#include "quant/x86/dot_vnni.h"
#include "quant/x86/q4_amx.h"
#include "quant/x86/q4_kernels_x86.h"

namespace mobilellm::quant {
namespace x86 {
namespace {

// From 8 tokens AMX beats the VNNI kernel even with half of each 16-token
// tile padding: a decode step of 8 batched streams ran 1.23× faster with AMX
// than with VNNI at 8–15 tokens, while at 2 and 4 tokens VNNI stays ahead
// (BENCHMARKS.md "Continuous batching"). From 16 tokens AMX is 3–5× VNNI.
constexpr int64_t kAmxMinTokens = 8;

// The tile instructions. GCC's own _tile_loadd/_tile_stored asm declares no
// memory access, so these carry a "memory" clobber: the compiler must finish
// the stores that fill B before a load and may not keep C's buffer in
// registers across a store. %c prints the tile number without its '$'.
struct NativeTiles {
  static void configure(const AmxTileConfig& config) { asm volatile("ldtilecfg %0" ::"m"(config)); }
  template <int t>
  static void zero() {
    asm volatile("tilezero %%tmm%c0" ::"i"(t) : "memory");
  }
  template <int t>
  static void load(const void* p, int64_t stride) {
    asm volatile("tileloadd (%0,%1,1), %%tmm%c2" ::"r"(p), "r"(stride), "i"(t) : "memory");
  }
  template <int c, int a, int b, bool kSignedB>
  static void dot() {
    if constexpr (kSignedB)
      asm volatile("tdpbssd %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(c), "i"(a), "i"(b) : "memory");
    else
      asm volatile("tdpbsud %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(c), "i"(a), "i"(b) : "memory");
  }
  template <int t>
  static void store(int32_t* p) {
    asm volatile("tilestored %%tmm%c2, (%0,%1,1)" ::"r"(p), "r"(int64_t{64}), "i"(t) : "memory");
  }
  static void release() { asm volatile("tilerelease" ::: "memory"); }
};

void q4_matmul_tiles_amx(const Int8Rows& x, int64_t m, const Q4Matrix& w, int64_t tile_begin, int64_t tile_end,
                         float* y, int64_t ldy) {
  if (m < kAmxMinTokens) return q4_matmul_tiles<DotVnni>(x, m, w, tile_begin, tile_end, y, ldy);
  amx_q4_matmul_tiles<NativeTiles>(x, m, w, tile_begin, tile_end, y, ldy);
}

}  // namespace
}  // namespace x86

const QuantKernels kAmxQuantKernels = {kernels::Isa::kAmx, x86::quantize_rows, x86::q4_matmul_tiles_amx,
                                       x86::attention_int8, x86::attention_int8_ranged};

}  // namespace mobilellm::quant
