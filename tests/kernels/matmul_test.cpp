// matmul_range and the threaded matmul of every table against the scalar
// reference: all dtypes, ragged sizes around every vector and tile width,
// shapes that cross every cache block, misaligned pointers and column ranges.
#include <algorithm>
#include <memory>

#include "kernel_test_util.h"
#include "runtime/thread_pool.h"
#include "support/threads_or_skip.h"

namespace mobilellm::kernels::test {
namespace {

constexpr DType kDtypes[] = {DType::kF32, DType::kBF16, DType::kF16};

// Summation order differs between tables; bound the difference by the sum of |terms|.
std::vector<float> matmul_tolerance(const std::vector<float>& x, int64_t m, const WeightMatrix& w) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  std::vector<float> tol(static_cast<size_t>(m * w.rows));
  for (int64_t n = 0; n < w.rows; ++n) {
    WeightMatrix one = w;
    one.data = static_cast<const uint8_t*>(w.data) + n * w.cols * dtype_size(w.dtype);
    reference().to_float(one.data, w.dtype, w.cols, row.data());
    for (int64_t i = 0; i < m; ++i) {
      double sum = 0;
      for (int64_t k = 0; k < w.cols; ++k) sum += std::fabs(x[i * w.cols + k] * row[k]);
      tol[i * w.rows + n] = static_cast<float>(2e-5 * sum) + 1e-30f;
    }
  }
  return tol;
}

struct Case {
  int64_t m, n, k;
  DType dtype;
  int64_t misalign;  // elements
};

std::string describe(const Case& c) {
  return "m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) + " " +
         dtype_name(c.dtype) + " misalign=" + std::to_string(c.misalign);
}

void check_range(const FloatKernels& kernels, const Case& c) {
  StoredWeights stored(c.dtype, c.n, c.k, static_cast<uint32_t>(c.m * 1000003 + c.n * 1009 + c.k));
  WeightMatrix w = stored.matrix();
  std::vector<float> xbuf = random_floats(static_cast<size_t>(c.m * c.k + c.misalign), 7);
  std::vector<float> x(xbuf.begin() + c.misalign, xbuf.end());
  const float* xp = xbuf.data() + c.misalign;
  std::vector<float> want(static_cast<size_t>(c.m * c.n));
  reference().matmul_range(xp, c.m, w, 0, c.n, want.data(), c.n);
  std::vector<float> ybuf(want.size() + c.misalign, -7.0f);
  kernels.matmul_range(xp, c.m, w, 0, c.n, ybuf.data() + c.misalign, c.n);
  std::vector<float> got(ybuf.begin() + c.misalign, ybuf.end());
  expect_close(got, want, matmul_tolerance(x, c.m, w), describe(c));
}

class MatmulTest : public testing::TestWithParam<const FloatKernels*> {};

TEST_P(MatmulTest, RaggedSizesEveryDtype) {
  for (DType dtype : kDtypes)
    for (int64_t m = 1; m <= 13; ++m)
      for (int64_t n : {1, 2, 3, 5, 8, 15, 16, 17, 31, 33, 37})
        for (int64_t k : {0, 1, 5, 8, 16, 19, 40, 67}) check_range(*GetParam(), {m, n, k, dtype, (m + n + k) % 3});
}

// Crosses the GEMM's depth, row and column blocks and the GEMV's 4-row groups.
TEST_P(MatmulTest, ShapesAcrossCacheBlocks) {
  for (DType dtype : kDtypes) {
    check_range(*GetParam(), {150, 40, 600, dtype, 1});
    check_range(*GetParam(), {7, 2100, 20, dtype, 0});
    check_range(*GetParam(), {2, 77, 1030, dtype, 1});
    check_range(*GetParam(), {300, 35, 24, dtype, 2});
  }
}

// A column range writes its own columns of y (row stride ldy) and nothing else.
TEST_P(MatmulTest, ColumnRangeWritesOnlyItsColumns) {
  for (int64_t m : {1, 3, 9})
    for (auto [begin, end] : {std::pair<int64_t, int64_t>{0, 5}, {5, 22}, {16, 37}, {3, 4}}) {
      const int64_t n = 37, k = 29, ldy = 41;
      StoredWeights stored(DType::kBF16, n, k, 11);
      std::vector<float> x = random_floats(static_cast<size_t>(m * k), 12);
      std::vector<float> want(static_cast<size_t>(m * ldy), -7.0f), got = want;
      reference().matmul_range(x.data(), m, stored.matrix(), begin, end, want.data(), ldy);
      GetParam()->matmul_range(x.data(), m, stored.matrix(), begin, end, got.data(), ldy);
      std::vector<float> tol(want.size(), 1e-4f);
      expect_close(got, want, tol, "m=" + std::to_string(m) + " range " + std::to_string(begin));
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < ldy; ++j)
          if (j < begin || j >= end) {
            EXPECT_EQ(got[i * ldy + j], -7.0f) << "row " << i << " col " << j;
          }
    }
}

TEST_P(MatmulTest, ThreadedMatchesReference) {
  MOBILELLM_SKIP_WITHOUT_THREADS();
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{1, 37, 33},
                           {1, 200, 64},
                           {1, 2100, 40},
                           {3, 100, 17},
                           {3, 700, 40},
                           {64, 100, 40},
                           {100, 20, 33},  // too few columns to go round: rows split too
                           {130, 9, 70},
                           {40, 70, 300}})
      for (DType dtype : kDtypes) {
        StoredWeights stored(dtype, n, k, static_cast<uint32_t>(n + k));
        std::vector<float> x = random_floats(static_cast<size_t>(m * k), 3);
        std::vector<float> want(static_cast<size_t>(m * n)), got(want.size(), -7.0f);
        reference().matmul_range(x.data(), m, stored.matrix(), 0, n, want.data(), n);
        matmul(pool, *GetParam(), x.data(), m, stored.matrix(), got.data());
        expect_close(got, want, matmul_tolerance(x, m, stored.matrix()),
                     std::to_string(threads) + " threads, " + describe({m, n, k, dtype, 0}));
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, MatmulTest, testing::ValuesIn(tables_under_test()), table_name);

}  // namespace
}  // namespace mobilellm::kernels::test
