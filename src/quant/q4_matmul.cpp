#include "quant/quant_kernels.h"

namespace mobilellm::quant {

void q4_matmul(ThreadPool& pool, const QuantKernels& k, const Int8Rows& x, int64_t m, const Q4Matrix& w, float* y) {
  // Contiguous tile ranges: in decode each thread streams one run of the matrix.
  pool.split(w.tiles(), 1, [&](int64_t begin, int64_t end, int) {
    if (begin < end) k.q4_matmul_tiles(x, m, w, begin, end, y, w.rows);
  });
}

}  // namespace mobilellm::quant
