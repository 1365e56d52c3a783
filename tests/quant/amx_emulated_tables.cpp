// The AMX GEMM's own source (x86/q4_amx.h) on a scalar model of the tile
// instructions, its AVX-512 parts on SIMDe, built with AVX2 flags: proves the
// tile logic (operand layout, tails of tokens and rows, the configuration) on
// any x86 CPU. The model runs for every token count, so small batches test it
// too. On a CPU with AMX the real table runs in quant_kernel_tests as well.
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/avx512/dpbusd.h>

#include <cstdlib>
#include <cstring>

#include "simde_avx512_gaps.h"

#include "quant/x86/dot_vnni.h"
#include "quant/x86/q4_amx.h"
#include "quant/x86/q4_kernels_x86.h"
#include "tables_under_test.h"

namespace mobilellm::quant {
namespace {

// The tile registers and instructions as the Intel SDM defines them (palette
// 1: 8 tiles of up to 16 rows × 64 bytes). A shape the hardware would reject
// (#UD) aborts the test.
struct ModelTiles {
  struct State {
    x86::AmxTileConfig config;
    bool configured = false;
    uint8_t tmm[8][16][64];
  };
  static State& state() {
    thread_local State s;
    return s;
  }
  static void require(bool ok) {
    if (!ok) std::abort();
  }
  static void configure(const x86::AmxTileConfig& config) {
    require(config.palette == 1 && config.start_row == 0);
    state() = {};
    state().config = config;
    state().configured = true;
  }
  template <int t>
  static void zero() {
    require(state().configured);
    std::memset(state().tmm[t], 0, sizeof state().tmm[t]);
  }
  template <int t>
  static void load(const void* p, int64_t stride) {
    State& s = state();
    require(s.configured);
    std::memset(s.tmm[t], 0, sizeof s.tmm[t]);
    for (int r = 0; r < s.config.rows[t]; ++r)
      std::memcpy(s.tmm[t][r], static_cast<const uint8_t*>(p) + r * stride, s.config.colsb[t]);
  }
  // tdpbssd (kSignedB) / tdpbsud: C[m][n] += Σ_k Σ_i s8 A[m][4k+i] · s8 / u8 B[k][4n+i].
  template <int c, int a, int b, bool kSignedB>
  static void dot() {
    State& s = state();
    const auto& cfg = s.config;
    require(s.configured && cfg.rows[c] == cfg.rows[a] && cfg.colsb[a] / 4 == cfg.rows[b] &&
            cfg.colsb[c] == cfg.colsb[b]);
    for (int m = 0; m < cfg.rows[c]; ++m)
      for (int n = 0; n < cfg.colsb[c] / 4; ++n) {
        int32_t sum;
        std::memcpy(&sum, &s.tmm[c][m][4 * n], 4);
        for (int k = 0; k < cfg.colsb[a] / 4; ++k)
          for (int i = 0; i < 4; ++i)
            sum +=
                static_cast<int8_t>(s.tmm[a][m][4 * k + i]) *
                (kSignedB ? static_cast<int8_t>(s.tmm[b][k][4 * n + i]) : static_cast<int32_t>(s.tmm[b][k][4 * n + i]));
        std::memcpy(&s.tmm[c][m][4 * n], &sum, 4);
      }
  }
  template <int t>
  static void store(int32_t* out) {
    State& s = state();
    require(s.configured);
    for (int r = 0; r < s.config.rows[t]; ++r) std::memcpy(out + r * 16, s.tmm[t][r], s.config.colsb[t]);
  }
  static void release() { state().configured = false; }
};

const QuantKernels kEmulatedAmx = {kernels::Isa::kAmx, x86::quantize_rows, x86::amx_q4_matmul_tiles<ModelTiles>,
                                   x86::attention_int8, x86::attention_int8_ranged};

}  // namespace

std::vector<const QuantKernels*> tables_under_test() { return {&kEmulatedAmx}; }

}  // namespace mobilellm::quant
