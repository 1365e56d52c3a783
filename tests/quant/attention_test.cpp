// Attention over int8 KV heads: the scalar twin against softmax in fp64 over
// the dequantized keys and values; every table under test against the twin;
// split-and-merge against one pass.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "quant/int8_quant.h"
#include "quant/quant_kernels.h"
#include "runtime/dtype.h"
#include "tables_under_test.h"

namespace mobilellm::quant {
namespace {

// n rows of `heads` heads, quantized per row per head; the view is head 1's.
struct KvData {
  int64_t n, heads, head_dim;
  std::vector<int8_t> k, v;
  std::vector<uint16_t> k_scale, v_scale;
  std::vector<int8_t> k_zero, v_zero;

  KvData(int64_t n_, int64_t head_dim_, uint32_t seed) : n(n_), heads(3), head_dim(head_dim_) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const int64_t width = heads * head_dim;
    k.resize(n * width);
    v.resize(n * width);
    k_scale.resize(n * heads);
    v_scale.resize(n * heads);
    k_zero.resize(n * heads);
    v_zero.resize(n * heads);
    std::vector<float> row(head_dim);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t h = 0; h < heads; ++h)
        for (int kv = 0; kv < 2; ++kv) {
          const float offset = kv ? 0.5f : -0.3f;
          for (auto& x : row) x = normal(rng) * (kv ? 0.7f : 1.3f) + offset;
          int8_t* codes = (kv ? v.data() : k.data()) + t * width + h * head_dim;
          const Int8Params p = int8_quantize_row(row.data(), head_dim, codes);
          // Meta is per head, then per row: [heads][n].
          (kv ? v_scale : k_scale)[h * n + t] = float_to_f16(p.scale);
          (kv ? v_zero : k_zero)[h * n + t] = static_cast<int8_t>(p.zero_point);
        }
  }
  Int8KvHead head(int64_t h, int64_t first = 0) const {
    Int8KvHead view;
    view.k = k.data() + first * heads * head_dim + h * head_dim;
    view.v = v.data() + first * heads * head_dim + h * head_dim;
    view.k_scale = k_scale.data() + h * n + first;
    view.v_scale = v_scale.data() + h * n + first;
    view.k_zero = k_zero.data() + h * n + first;
    view.v_zero = v_zero.data() + h * n + first;
    view.row_stride = heads * head_dim;
    return view;
  }
};

struct State {
  std::vector<float> max, sum, acc;
  State(int64_t g, int64_t head_dim) : max(g), sum(g), acc(g * head_dim) {
    softmax_state_reset(view(), g, head_dim);
  }
  SoftmaxState view() { return {max.data(), sum.data(), acc.data()}; }
};

std::vector<float> run(const QuantKernels& k, const std::vector<float>& q, int64_t g, const KvData& kv, float scale) {
  State st(g, kv.head_dim);
  k.attention_int8(q.data(), g, kv.head(1), kv.n, kv.head_dim, scale, st.view());
  std::vector<float> out(g * kv.head_dim);
  softmax_state_finish(st.view(), g, kv.head_dim, out.data());
  return out;
}

std::vector<float> queries(int64_t g, int64_t head_dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(g * head_dim);
  for (auto& x : q) x = normal(rng);
  return q;
}

TEST(Int8Attention, ScalarTwinMatchesSoftmaxOverDequantizedRows) {
  const int64_t g = 5, head_dim = 64, n = 300;
  KvData kv(n, head_dim, 1);
  const std::vector<float> q = queries(g, head_dim, 2);
  const float scale = 0.125f;
  const std::vector<float> got = run(*quant_kernels_for(kernels::Isa::kScalar), q, g, kv, scale);
  const Int8KvHead h = kv.head(1);
  for (int64_t j = 0; j < g; ++j) {
    std::vector<double> s(n);
    double m = -1e300, z = 0.0;
    for (int64_t t = 0; t < n; ++t) {
      double dot = 0.0;
      for (int64_t d = 0; d < head_dim; ++d)
        dot += q[j * head_dim + d] * (h.k[t * h.row_stride + d] - h.k_zero[t]) * f16_to_float(h.k_scale[t]);
      s[t] = dot * scale;
      m = std::max(m, s[t]);
    }
    for (auto& x : s) z += (x = std::exp(x - m));
    for (int64_t d = 0; d < head_dim; ++d) {
      double o = 0.0;
      for (int64_t t = 0; t < n; ++t) o += s[t] / z * (h.v[t * h.row_stride + d] - h.v_zero[t]) * f16_to_float(h.v_scale[t]);
      ASSERT_NEAR(got[j * head_dim + d], o, 1e-5) << "row " << j << " dim " << d;
    }
  }
}

TEST(Int8Attention, EveryIsaMatchesTheScalarTwin) {
  for (int64_t head_dim : {64, 32, 24}) {
    for (int64_t g : {1, 5, 9}) {
      for (int64_t n : {1, 7, 8, 9, 33, 1000}) {
        KvData kv(n, head_dim, static_cast<uint32_t>(n + g));
        const std::vector<float> q = queries(g, head_dim, static_cast<uint32_t>(g));
        const std::vector<float> want = run(*quant_kernels_for(kernels::Isa::kScalar), q, g, kv, 0.125f);
        for (const QuantKernels* k : tables_under_test()) {
          const std::vector<float> got = run(*k, q, g, kv, 0.125f);
          for (size_t i = 0; i < want.size(); ++i)
            ASSERT_NEAR(got[i], want[i], 2e-5 * (1.0f + std::fabs(want[i])))
                << kernels::isa_name(k->isa) << " head_dim " << head_dim << " g " << g << " n " << n << " at " << i;
        }
      }
    }
  }
}

TEST(Int8Attention, SplitKeysMergeToOnePass) {
  const int64_t g = 5, head_dim = 64, n = 777;
  KvData kv(n, head_dim, 9);
  const std::vector<float> q = queries(g, head_dim, 4);
  const QuantKernels& k = quant_kernels();
  const std::vector<float> want = run(k, q, g, kv, 0.125f);
  State total(g, head_dim);
  const int64_t bounds[] = {0, 250, 500, n};
  for (int i = 0; i < 3; ++i) {
    State part(g, head_dim);
    k.attention_int8(q.data(), g, kv.head(1, bounds[i]), bounds[i + 1] - bounds[i], head_dim, 0.125f, part.view());
    softmax_state_merge(total.view(), part.view(), g, head_dim);
  }
  std::vector<float> got(g * head_dim);
  softmax_state_finish(total.view(), g, head_dim, got.data());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5 * (1.0f + std::fabs(want[i]))) << i;
}

}  // namespace
}  // namespace mobilellm::quant
