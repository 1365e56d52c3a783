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
  State(int64_t g, int64_t head_dim) : max(g), sum(g), acc(g * head_dim) { softmax_state_reset(view(), g, head_dim); }
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
      for (int64_t t = 0; t < n; ++t)
        o += s[t] / z * (h.v[t * h.row_stride + d] - h.v_zero[t]) * f16_to_float(h.v_scale[t]);
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

// Rows of `heads_per_position` heads at positions p0.., each seeing keys
// [first(p), p + 1) as in a causal (optionally sliding) prefill; some rows see
// nothing. Every table against the scalar twin (which is one row at a time
// through attention_int8, checked against fp64 above), from a fresh state and
// continuing a state that has seen other keys.
TEST(Int8Attention, RangedRowsMatchTheScalarTwin) {
  struct Case {
    int64_t head_dim, positions, heads_per_position, n, window;
  };
  const Case cases[] = {{64, 8, 5, 300, 0}, {64, 8, 5, 300, 70}, {64, 3, 5, 40, 0},
                        {32, 5, 1, 97, 33}, {24, 2, 3, 65, 0},   {40, 7, 2, 129, 16},
                        {20, 4, 5, 50, 0},  {64, 1, 1, 1, 0},    {64, 9, 5, 1000, 512}};
  for (const Case& c : cases) {
    KvData kv(c.n, c.head_dim, static_cast<uint32_t>(c.n + c.positions));
    const int64_t rows = c.positions * c.heads_per_position;
    const std::vector<float> q = queries(rows, c.head_dim, static_cast<uint32_t>(rows));
    std::vector<const float*> q_rows(rows);
    std::vector<int64_t> first(rows), end(rows);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t p = c.n - c.positions + r / c.heads_per_position;
      q_rows[r] = q.data() + r * c.head_dim;
      first[r] = c.window ? std::max<int64_t>(0, p + 1 - c.window) : 0;
      end[r] = p + 1;
      if (r % 7 == 3) first[r] = end[r];  // an empty range
    }
    const RangedQueries rq{q_rows.data(), first.data(), end.data(), rows};
    auto run_ranged = [&](const QuantKernels& k, bool seeded) {
      State st(rows, c.head_dim);
      if (seeded) {  // a state that has already seen keys 0..n/2 of another head
        KvData other(c.n / 2 + 1, c.head_dim, 77);
        for (int64_t r = 0; r < rows; ++r)
          k.attention_int8(q_rows[r], 1, other.head(1), other.n, c.head_dim, 0.125f,
                           {st.max.data() + r, st.sum.data() + r, st.acc.data() + r * c.head_dim});
      }
      k.attention_int8_ranged(rq, kv.head(1), c.head_dim, 0.125f, st.view());
      return st;
    };
    for (bool seeded : {false, true}) {
      const State want = run_ranged(*quant_kernels_for(kernels::Isa::kScalar), seeded);
      for (const QuantKernels* k : tables_under_test()) {
        const State got = run_ranged(*k, seeded);
        const std::string where = std::string(kernels::isa_name(k->isa)) + " head_dim " + std::to_string(c.head_dim) +
                                  " rows " + std::to_string(rows) + " n " + std::to_string(c.n) + " window " +
                                  std::to_string(c.window) + (seeded ? " seeded" : " fresh");
        for (int64_t r = 0; r < rows; ++r) {
          // Scores round differently (dequantized keys against the twin's
          // integer dot), so the states agree to rounding; rows that saw no
          // key must be exactly as they were.
          if (want.sum[r] == 0.0f) {
            ASSERT_EQ(got.sum[r], 0.0f) << where << " row " << r;
            ASSERT_EQ(got.max[r], want.max[r]) << where << " row " << r;
            continue;
          }
          ASSERT_NEAR(got.max[r], want.max[r], 1e-5 * (1.0f + std::fabs(want.max[r]))) << where << " row " << r;
          const float rescale = std::exp(got.max[r] - want.max[r]);
          ASSERT_NEAR(got.sum[r] * rescale, want.sum[r], 2e-5 * want.sum[r]) << where << " row " << r;
          for (int64_t d = 0; d < c.head_dim; ++d) {
            const size_t i = static_cast<size_t>(r * c.head_dim + d);
            ASSERT_NEAR(got.acc[i] / got.sum[r], want.acc[i] / want.sum[r],
                        2e-5 * (1.0f + std::fabs(want.acc[i] / want.sum[r])))
                << where << " row " << r << " dim " << d;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace mobilellm::quant
