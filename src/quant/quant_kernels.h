#pragma once
// Kernels of the quantized scheme (int4 weights × int8 activations, int8 KV
// cache). One table per instruction set; the scalar table is the reference
// twin every other table is tested against. Kernels know nothing of the model.
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/float_kernels.h"
#include "quant/int8_attention.h"
#include "quant/int8_rows.h"
#include "quant/q4_matrix.h"
#include "runtime/thread_pool.h"

namespace mobilellm::quant {

struct QuantKernels {
  kernels::Isa isa;
  // Quantizes x [m][out.cols] per token into out (codes bit-identical to
  // int8_quantize_row) and fills its scale, zero point and group terms.
  void (*quantize_rows)(const float* x, int64_t m, const Int8Rows& out);
  // y[i·ldy + n] = Σ_k x̂[i][k]·ŵ[n][k] for tokens i < m and the rows n of
  // tiles [tile_begin, tile_end) below w.rows (x̂, ŵ: the dequantized values),
  // accumulated in fp32. Single-threaded; q4_matmul splits the tiles.
  void (*q4_matmul_tiles)(const Int8Rows& x, int64_t m, const Q4Matrix& w, int64_t tile_begin, int64_t tile_end,
                          float* y, int64_t ldy);
  // Continues the online-softmax state of g query rows (q [g][head_dim], fp32)
  // over rows [0, n) of an int8 KV head; scores are q·k̂ · scale.
  void (*attention_int8)(const float* q, int64_t g, const Int8KvHead& kv, int64_t n, int64_t head_dim, float scale,
                         const SoftmaxState& state);
  // The same for rows with their own key ranges (state: one row per query
  // row); a row whose range is empty is left as it was.
  void (*attention_int8_ranged)(const RangedQueries& queries, const Int8KvHead& kv, int64_t head_dim, float scale,
                                const SoftmaxState& state);
};

// The best table this CPU runs; MOBILELLM_ISA=scalar|avx2|avx512|amx|neon|i8mm
// picks another (avx512 needs AVX-512 VNNI, amx also AMX-INT8, neon the
// dot-product extension, i8mm also the int8 matrix-multiply extension).
const QuantKernels& quant_kernels();
// The table for one ISA, or nullptr when not compiled in or not runnable here.
const QuantKernels* quant_kernels_for(kernels::Isa isa);
// Every ISA quant_kernels_for() returns a table for, scalar first.
std::vector<kernels::Isa> runnable_quant_isas();

// y[m][w.rows] = x̂ · ŵᵀ over all threads of the pool.
void q4_matmul(ThreadPool& pool, const QuantKernels& k, const Int8Rows& x, int64_t m, const Q4Matrix& w, float* y);

// One output of a fused matmul: y [m][w->rows] = x̂ · ŵᵀ.
struct Q4Product {
  const Q4Matrix* w;
  float* y;
};
// Several matrices on the same input (q, k, v; gate, up) in one job for the
// pool: the tiles of all of them are split over the threads at once, so a
// decode step waits for the threads once instead of once per matrix.
void q4_matmul(ThreadPool& pool, const QuantKernels& k, const Int8Rows& x, int64_t m,
               std::span<const Q4Product> products);

}  // namespace mobilellm::quant
