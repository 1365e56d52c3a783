// Giving back the memory of KV rows that no longer hold a position: the rows
// kept are untouched, in every head and every array of the int8 layout, and
// rows written again afterwards read back as written.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "quant/int8_kv_layer.h"

namespace mobilellm::quant {
namespace {

struct Snapshot {
  std::vector<int8_t> k, v, k_zero, v_zero;
  std::vector<uint16_t> k_scale, v_scale;
};

// Rows [0, n) of head h, every array.
Snapshot read(const Int8KvLayer& layer, int64_t h, int64_t n, int64_t head_dim) {
  const Int8KvHead view = layer.head(h, 0);
  Snapshot s;
  s.k.assign(view.k, view.k + n * head_dim);
  s.v.assign(view.v, view.v + n * head_dim);
  s.k_scale.assign(view.k_scale, view.k_scale + n);
  s.v_scale.assign(view.v_scale, view.v_scale + n);
  s.k_zero.assign(view.k_zero, view.k_zero + n);
  s.v_zero.assign(view.v_zero, view.v_zero + n);
  return s;
}

bool operator==(const Snapshot& a, const Snapshot& b) {
  return a.k == b.k && a.v == b.v && a.k_scale == b.k_scale && a.v_scale == b.v_scale && a.k_zero == b.k_zero &&
         a.v_zero == b.v_zero;
}

TEST(Int8KvLayer, ReleasingTheTailKeepsTheRowsBefore) {
  // 4096 rows of 2 heads of 16: each head's codes span 16 pages, so the
  // release gives back whole pages in the middle of every array.
  constexpr int64_t kRows = 4096, kHeads = 2, kDim = 16, kKeep = 1000;
  Int8KvLayer layer(kRows, kHeads, kDim);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> k(kHeads * kDim), v(k.size());
  auto write = [&](int64_t row) {
    for (auto& x : k) x = normal(rng);
    for (auto& x : v) x = normal(rng);
    layer.write(row, k.data(), v.data());
  };
  for (int64_t r = 0; r < kRows; ++r) write(r);
  std::vector<Snapshot> before;
  for (int64_t h = 0; h < kHeads; ++h) before.push_back(read(layer, h, kKeep, kDim));

  layer.release_from(kKeep);
  for (int64_t h = 0; h < kHeads; ++h) EXPECT_TRUE(read(layer, h, kKeep, kDim) == before[h]) << "head " << h;

  // Written again, the released rows hold what is written; the kept ones stay.
  Int8KvLayer reference(kRows, kHeads, kDim);
  rng.seed(9);
  for (int64_t r = kKeep; r < kRows; ++r) write(r);
  rng.seed(9);
  for (int64_t r = kKeep; r < kRows; ++r) {
    for (auto& x : k) x = normal(rng);
    for (auto& x : v) x = normal(rng);
    reference.write(r, k.data(), v.data());
  }
  for (int64_t h = 0; h < kHeads; ++h) {
    EXPECT_TRUE(read(layer, h, kKeep, kDim) == before[h]) << "head " << h;
    const Snapshot tail = read(layer, h, kRows, kDim), expected = read(reference, h, kRows, kDim);
    EXPECT_TRUE(std::equal(tail.k.begin() + kKeep * kDim, tail.k.end(), expected.k.begin() + kKeep * kDim));
    EXPECT_TRUE(std::equal(tail.v_zero.begin() + kKeep, tail.v_zero.end(), expected.v_zero.begin() + kKeep));
    EXPECT_TRUE(std::equal(tail.k_scale.begin() + kKeep, tail.k_scale.end(), expected.k_scale.begin() + kKeep));
  }
}

}  // namespace
}  // namespace mobilellm::quant
