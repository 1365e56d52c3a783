#pragma once
// Shared by the kernel tests: the tables under test, seeded random data, and
// stored weights in every dtype at a chosen misalignment.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/float_kernels.h"
#include "runtime/dtype.h"

namespace mobilellm::kernels::test {

// Every table the executable checks against the scalar reference; defined once per test executable.
std::vector<const FloatKernels*> tables_under_test();

inline std::string table_name(const testing::TestParamInfo<const FloatKernels*>& info) {
  return isa_name(info.param->isa);
}

inline const FloatKernels& reference() { return *float_kernels_for(Isa::kScalar); }

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

// A [rows][cols] weight matrix stored as `dtype`, starting `offset` elements
// into its buffer so the kernels also see pointers off vector alignment.
class StoredWeights {
 public:
  StoredWeights(DType dtype, int64_t rows, int64_t cols, uint32_t seed, int64_t offset = 0)
      : dtype_(dtype), rows_(rows), cols_(cols), offset_(offset) {
    std::vector<float> values = random_floats(static_cast<size_t>(rows * cols), seed);
    bytes_.resize(static_cast<size_t>((rows * cols + offset) * dtype_size(dtype)) + 1);
    for (size_t i = 0; i < values.size(); ++i) {
      uint8_t* at = data() + i * dtype_size(dtype);
      if (dtype == DType::kF32) {
        std::memcpy(at, &values[i], 4);
      } else {
        uint16_t h = dtype == DType::kBF16 ? float_to_bf16(values[i]) : float_to_f16(values[i]);
        std::memcpy(at, &h, 2);
      }
    }
  }
  WeightMatrix matrix() const { return {data(), dtype_, rows_, cols_}; }

 private:
  uint8_t* data() const { return const_cast<uint8_t*>(bytes_.data()) + offset_ * dtype_size(dtype_); }
  DType dtype_;
  int64_t rows_, cols_, offset_;
  std::vector<uint8_t> bytes_;
};

// Elementwise |got − want| ≤ tol[i] (or both NaN), reporting the first few misses.
inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::vector<float>& tol,
                         const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int misses = 0;
  for (size_t i = 0; i < got.size() && misses < 5; ++i) {
    if (std::isnan(got[i]) && std::isnan(want[i])) continue;
    if (got[i] == want[i]) continue;  // also equal infinities
    if (!(std::fabs(got[i] - want[i]) <= tol[i])) {
      ADD_FAILURE() << what << " [" << i << "]: got " << got[i] << ", want " << want[i] << ", tolerance " << tol[i];
      ++misses;
    }
  }
}

inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, float rel,
                         const std::string& what) {
  std::vector<float> tol(want.size());
  for (size_t i = 0; i < want.size(); ++i) tol[i] = rel * std::fabs(want[i]) + 1e-30f;
  expect_close(got, want, tol, what);
}

}  // namespace mobilellm::kernels::test
