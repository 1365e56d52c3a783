// RMSNorm, RoPE, SiLU gating, add and dtype conversion of every table against
// the scalar reference, over lengths around every vector width and misaligned.
#include <limits>

#include "kernel_test_util.h"

namespace mobilellm::kernels::test {
namespace {

constexpr int64_t kLengths[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1280};

class ElementwiseTest : public testing::TestWithParam<const FloatKernels*> {};

TEST_P(ElementwiseTest, RmsNorm) {
  for (int64_t n : kLengths)
    for (bool with_weight : {true, false})
      for (int64_t misalign : {0, 1}) {
        std::vector<float> x = random_floats(static_cast<size_t>(n + misalign), static_cast<uint32_t>(n), -3, 3);
        std::vector<float> w = random_floats(static_cast<size_t>(n + misalign), 99, 0.5f, 1.5f);
        const float* wp = with_weight ? w.data() + misalign : nullptr;
        std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n));
        reference().rmsnorm(x.data() + misalign, wp, n, 1e-5f, want.data());
        GetParam()->rmsnorm(x.data() + misalign, wp, n, 1e-5f, got.data());
        expect_close(got, want, 1e-5f, "rmsnorm n=" + std::to_string(n));
        // In place: out aliases x.
        std::vector<float> inplace(x.begin() + misalign, x.end());
        GetParam()->rmsnorm(inplace.data(), wp, n, 1e-5f, inplace.data());
        expect_close(inplace, want, 1e-5f, "rmsnorm in place n=" + std::to_string(n));
      }
}

TEST_P(ElementwiseTest, RopeInterleaved) {
  for (int64_t head_dim : {2, 4, 6, 8, 10, 12, 16, 18, 24, 32, 40, 64, 128})
    for (int64_t heads : {1, 2, 3, 5, 20}) {
      std::vector<float> x = random_floats(static_cast<size_t>(heads * head_dim + 1), 5, -2, 2);
      std::vector<float> angle = random_floats(static_cast<size_t>(head_dim / 2), 6, -100, 100);
      std::vector<float> cos(angle.size()), sin(angle.size());
      for (size_t i = 0; i < angle.size(); ++i) {
        cos[i] = std::cos(angle[i]);
        sin[i] = std::sin(angle[i]);
      }
      std::vector<float> want(x.begin() + 1, x.end()), got = want;
      reference().rope_interleaved(want.data(), heads, head_dim, cos.data(), sin.data());
      GetParam()->rope_interleaved(x.data() + 1, heads, head_dim, cos.data(), sin.data());
      got.assign(x.begin() + 1, x.end());
      expect_close(got, want, std::vector<float>(want.size(), 1e-6f),
                   "rope head_dim=" + std::to_string(head_dim) + " heads=" + std::to_string(heads));
    }
}

TEST_P(ElementwiseTest, SiluMul) {
  for (int64_t n : kLengths) {
    std::vector<float> gate = random_floats(static_cast<size_t>(n + 1), static_cast<uint32_t>(n), -20, 20);
    std::vector<float> up = random_floats(static_cast<size_t>(n + 1), 8, -2, 2);
    std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n));
    reference().silu_mul(gate.data() + 1, up.data() + 1, n, want.data());
    GetParam()->silu_mul(gate.data() + 1, up.data() + 1, n, got.data());
    expect_close(got, want, 1e-6f, "silu_mul n=" + std::to_string(n));
  }
}

// The vectorised e^x over its whole range: overflow, underflow, denormals.
TEST_P(ElementwiseTest, SiluMulExtremeGates) {
  std::vector<float> gate;
  for (float g = -120.0f; g <= 120.0f; g += 0.37f) gate.push_back(g);
  for (float g : {-88.7f, -88.0f, -87.3f, 87.3f, 88.0f, 88.7f, 88.8f, 103.0f, 104.5f, 0.0f, -0.0f, 1e-30f, -1e-30f})
    gate.push_back(g);
  std::vector<float> up(gate.size(), 1.0f);
  std::vector<float> want(gate.size()), got(gate.size());
  reference().silu_mul(gate.data(), up.data(), static_cast<int64_t>(gate.size()), want.data());
  GetParam()->silu_mul(gate.data(), up.data(), static_cast<int64_t>(gate.size()), got.data());
  std::vector<float> tol(want.size());
  for (size_t i = 0; i < want.size(); ++i) tol[i] = 1e-6f * std::fabs(want[i]) + 1e-37f;
  expect_close(got, want, tol, "silu_mul extremes");
}

TEST_P(ElementwiseTest, Add) {
  for (int64_t n : kLengths) {
    std::vector<float> y = random_floats(static_cast<size_t>(n + 1), 1),
                       x = random_floats(static_cast<size_t>(n + 1), 2);
    std::vector<float> want(y.begin() + 1, y.end());
    reference().add(want.data(), x.data() + 1, n);
    GetParam()->add(y.data() + 1, x.data() + 1, n);
    std::vector<float> got(y.begin() + 1, y.end());
    expect_close(got, want, 0.0f, "add n=" + std::to_string(n));
  }
}

TEST_P(ElementwiseTest, ToFloatEveryDtype) {
  const float specials[] = {0.0f,
                            -0.0f,
                            1.0f,
                            -2.5f,
                            65504.0f,
                            1e-7f,
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN()};
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF16})
    for (int64_t n : kLengths) {
      StoredWeights stored(dtype, 1, n, static_cast<uint32_t>(n), n % 3);
      std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n));
      reference().to_float(stored.matrix().data, dtype, n, want.data());
      GetParam()->to_float(stored.matrix().data, dtype, n, got.data());
      expect_close(got, want, 0.0f, std::string("to_float ") + dtype_name(dtype) + " n=" + std::to_string(n));
    }
  // Special values, bit patterns as stored.
  std::vector<uint16_t> bf16, f16;
  for (float f : specials) {
    bf16.push_back(float_to_bf16(f));
    f16.push_back(float_to_f16(f));
  }
  for (auto [dtype, bits] : {std::pair{DType::kBF16, &bf16}, std::pair{DType::kF16, &f16}}) {
    std::vector<float> want(bits->size()), got(bits->size());
    reference().to_float(bits->data(), dtype, static_cast<int64_t>(bits->size()), want.data());
    GetParam()->to_float(bits->data(), dtype, static_cast<int64_t>(bits->size()), got.data());
    expect_close(got, want, 0.0f, std::string("to_float specials ") + dtype_name(dtype));
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, ElementwiseTest, testing::ValuesIn(tables_under_test()), table_name);

}  // namespace
}  // namespace mobilellm::kernels::test
