// Model-sized matmuls (MobileLLM-Pro's projection shapes, prefill and decode)
// threaded, against the scalar reference. Seconds in Release, far too slow
// under the sanitizers, where matmul_test's block-crossing shapes stand in.
#include "kernel_test_util.h"
#include "runtime/thread_pool.h"
#include "support/threads_or_skip.h"

namespace mobilellm::kernels::test {
namespace {

class LargeMatmulTest : public testing::TestWithParam<const FloatKernels*> {};

TEST_P(LargeMatmulTest, ModelShapes) {
  MOBILELLM_SKIP_WITHOUT_THREADS();
  if (GetParam()->isa == Isa::kScalar) GTEST_SKIP() << "the reference itself";
  ThreadPool pool(2);
  struct Shape {
    int64_t m, n, k;
  };
  for (Shape s : {Shape{1, 20000, 1280},
                  {1, 1280, 6144},
                  {3, 6144, 1280},
                  {512, 1280, 1280},
                  {100, 256, 6144},
                  {77, 6144, 1280}}) {
    StoredWeights stored(DType::kBF16, s.n, s.k, static_cast<uint32_t>(s.n));
    std::vector<float> x = random_floats(static_cast<size_t>(s.m * s.k), 1);
    std::vector<float> want(static_cast<size_t>(s.m * s.n)), got(want.size());
    reference().matmul_range(x.data(), s.m, stored.matrix(), 0, s.n, want.data(), s.n);
    matmul(pool, *GetParam(), x.data(), s.m, stored.matrix(), got.data());
    // Random terms in [-1, 1]: |terms| sum to about k/4; allow 2e-5 of that.
    std::vector<float> tol(want.size(), 2e-5f * static_cast<float>(s.k) / 4);
    expect_close(got, want, tol,
                 "m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k));
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, LargeMatmulTest, testing::ValuesIn(tables_under_test()), table_name);

}  // namespace
}  // namespace mobilellm::kernels::test
