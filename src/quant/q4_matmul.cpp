#include <algorithm>

#include "quant/quant_kernels.h"

namespace mobilellm::quant {

void q4_matmul(ThreadPool& pool, const QuantKernels& k, const Int8Rows& x, int64_t m, const Q4Matrix& w, float* y) {
  const Q4Product one{&w, y};
  q4_matmul(pool, k, x, m, std::span<const Q4Product>(&one, 1));
}

void q4_matmul(ThreadPool& pool, const QuantKernels& k, const Int8Rows& x, int64_t m,
               std::span<const Q4Product> products) {
  int64_t total = 0;
  for (const Q4Product& p : products) total += p.w->tiles();
  // Contiguous ranges of the matrices' tiles laid end to end: in decode each
  // thread streams one run of memory.
  pool.split(total, 1, [&](int64_t begin, int64_t end, int) {
    int64_t first = 0;
    for (const Q4Product& p : products) {
      const int64_t tiles = p.w->tiles();
      const int64_t b = std::max(begin, first), e = std::min(end, first + tiles);
      if (b < e) k.q4_matmul_tiles(x, m, *p.w, b - first, e - first, p.y, p.w->rows);
      first += tiles;
    }
  });
}

}  // namespace mobilellm::quant
