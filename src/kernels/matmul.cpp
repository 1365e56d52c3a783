// The threaded matmul: splits the output over the pool and calls the table's
// single-threaded matmul_range on each part.
#include <algorithm>

#include "kernels/float_kernels.h"

namespace mobilellm::kernels {
namespace {

// Column ranges are multiples of this, a multiple of every micro-tile width
// (16 columns for AVX2 and NEON, 32 for AVX-512), so only the matrix's own
// edge runs a ragged tile.
constexpr int64_t kColumnAlign = 32;
// A row split re-packs the same weights in every part; it pays only when each
// part keeps enough rows to amortise that.
constexpr int64_t kMinRowsPerPart = 32;
// Below this many multiply-adds, waking another thread costs more than it saves.
constexpr int64_t kMinParallelWork = int64_t{1} << 16;

// [begin, end) of part `index` of `parts` over `units` units of `unit` elements, clipped to n.
std::pair<int64_t, int64_t> part_range(int64_t n, int64_t unit, int64_t parts, int64_t index) {
  int64_t units = (n + unit - 1) / unit;
  return {std::min(n, units * index / parts * unit), std::min(n, units * (index + 1) / parts * unit)};
}

}  // namespace

// Columns first: each thread then streams its own rows of W exactly once, which
// is all that matters for decode. Rows are split as well only when there are
// fewer column blocks than threads (small n, many input rows).
void matmul(ThreadPool& pool, const FloatKernels& kernels, const float* x, int64_t m, const WeightMatrix& w, float* y) {
  const int64_t n = w.rows;
  if (m * n * w.cols < kMinParallelWork) {
    kernels.matmul_range(x, m, w, 0, n, y, n);
    return;
  }
  const int64_t threads = pool.size();
  const int64_t col_parts = std::min(threads, (n + kColumnAlign - 1) / kColumnAlign);
  const int64_t row_parts = std::max<int64_t>(1, std::min((threads + col_parts - 1) / col_parts, m / kMinRowsPerPart));
  pool.run(col_parts * row_parts, [&](int64_t task, int) {
    auto [n_begin, n_end] = part_range(n, kColumnAlign, col_parts, task % col_parts);
    auto [m_begin, m_end] = part_range(m, 1, row_parts, task / col_parts);
    if (n_begin < n_end && m_begin < m_end)
      kernels.matmul_range(x + m_begin * w.cols, m_end - m_begin, w, n_begin, n_end, y + m_begin * n, n);
  });
}

}  // namespace mobilellm::kernels
