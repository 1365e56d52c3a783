#pragma once
// The loop both ARM int4 GEMMs (dot product, i8mm) run: K in blocks whose
// activations stay in cache, the tiles of 8 rows inside, tokens 4 at a time
// and then the 1–3 left over.
#include <algorithm>
#include <cstdint>

#include "quant/int8_rows.h"
#include "quant/q4_matrix.h"

namespace mobilellm::quant::arm {

constexpr int64_t kKBlockBytes = 128 * 1024;
constexpr int kTokenBlock = 4;

// Kernel::tile_tokens<kScheme, T>(x, i0, w, tile, g0, g1, y, ldy) computes
// tokens [i0, i0 + T) × one tile over groups [g0, g1), continuing the partial
// sums it left in y when g0 > 0 and finishing them when g1 is the last group.
template <class Kernel, Q4Scheme kScheme>
void matmul_tiles(const Int8Rows& x, int64_t m, const Q4Matrix& w, int64_t tile_begin, int64_t tile_end, float* y,
                  int64_t ldy) {
  const int64_t groups = w.groups();
  const int64_t k_block = std::clamp<int64_t>(kKBlockBytes / (32 * m), 4, groups);
  for (int64_t g0 = 0; g0 < groups; g0 += k_block) {
    const int64_t g1 = std::min(groups, g0 + k_block);
    for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
      int64_t i = 0;
      for (; i + kTokenBlock <= m; i += kTokenBlock)
        Kernel::template tile_tokens<kScheme, kTokenBlock>(x, i, w, tile, g0, g1, y, ldy);
      switch (m - i) {
        case 3: Kernel::template tile_tokens<kScheme, 3>(x, i, w, tile, g0, g1, y, ldy); break;
        case 2: Kernel::template tile_tokens<kScheme, 2>(x, i, w, tile, g0, g1, y, ldy); break;
        case 1: Kernel::template tile_tokens<kScheme, 1>(x, i, w, tile, g0, g1, y, ldy); break;
        default: break;
      }
    }
  }
}

template <class Kernel>
void q4_matmul_tiles(const Int8Rows& x, int64_t m, const Q4Matrix& w, int64_t tile_begin, int64_t tile_end, float* y,
                     int64_t ldy) {
  switch (w.scheme) {
    case Q4Scheme::kGroup32: return matmul_tiles<Kernel, Q4Scheme::kGroup32>(x, m, w, tile_begin, tile_end, y, ldy);
    case Q4Scheme::kChannel: return matmul_tiles<Kernel, Q4Scheme::kChannel>(x, m, w, tile_begin, tile_end, y, ldy);
    case Q4Scheme::kAffine32: return matmul_tiles<Kernel, Q4Scheme::kAffine32>(x, m, w, tile_begin, tile_end, y, ldy);
  }
}

}  // namespace mobilellm::quant::arm
