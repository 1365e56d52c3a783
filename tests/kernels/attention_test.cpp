// GQA attention of every table against the scalar reference: group sizes
// around the 4-row tiles, key counts and head sizes around every vector width,
// strided and misaligned K/V rows, flat and peaked softmax.
#include <algorithm>

#include "kernel_test_util.h"

namespace mobilellm::kernels::test {
namespace {

class AttentionTest : public testing::TestWithParam<const FloatKernels*> {};

void check(const FloatKernels& kernels, int64_t g, int64_t n_keys, int64_t head_dim, float q_scale) {
  const int64_t kv_stride = 3 * head_dim + 1;  // rows of other heads in between, off alignment
  std::vector<float> q = random_floats(static_cast<size_t>(g * head_dim), 1, -q_scale, q_scale);
  std::vector<float> k = random_floats(static_cast<size_t>(n_keys * kv_stride), 2);
  std::vector<float> v = random_floats(static_cast<size_t>(n_keys * kv_stride + 1), 3);
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  std::vector<float> want(static_cast<size_t>(g * head_dim)), got(want.size());
  std::vector<float> scratch(static_cast<size_t>(g * n_keys));
  reference().attention(q.data(), g, k.data(), v.data() + 1, kv_stride, n_keys, head_dim, scale, want.data(),
                        scratch.data());
  kernels.attention(q.data(), g, k.data(), v.data() + 1, kv_stride, n_keys, head_dim, scale, got.data(),
                    scratch.data());
  // Outputs are convex combinations of V values in [-1, 1]; a score's rounding
  // error grows with Σ|q·k|, and moves the softmax weights by as much.
  float score_bound = 0;
  for (int64_t j = 0; j < g; ++j)
    for (int64_t t = 0; t < n_keys; ++t) {
      float sum = 0;
      for (int64_t d = 0; d < head_dim; ++d) sum += std::fabs(q[j * head_dim + d] * k[t * kv_stride + d]);
      score_bound = std::max(score_bound, sum * scale);
    }
  expect_close(got, want, std::vector<float>(want.size(), 1e-6f * (2 + score_bound)),
               "g=" + std::to_string(g) + " keys=" + std::to_string(n_keys) + " head_dim=" + std::to_string(head_dim) +
                   " q_scale=" + std::to_string(q_scale));
}

TEST_P(AttentionTest, MatchesReference) {
  for (int64_t g : {1, 2, 3, 4, 5, 6, 7, 9, 13})
    for (int64_t n_keys : {1, 2, 7, 8, 9, 17, 100})
      for (int64_t head_dim : {3, 8, 12, 20, 64})
        for (float q_scale : {1.0f, 30.0f}) check(*GetParam(), g, n_keys, head_dim, q_scale);
}

TEST_P(AttentionTest, LongContextModelShape) { check(*GetParam(), 5, 1100, 64, 4.0f); }

INSTANTIATE_TEST_SUITE_P(Isa, AttentionTest, testing::ValuesIn(tables_under_test()), table_name);

}  // namespace
}  // namespace mobilellm::kernels::test
