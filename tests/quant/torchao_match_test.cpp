// Our int4 / int8 codes and scales against torchao's on the same tensors
// (tools/reference/quant_reference.py writes the fixture): bit for bit.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "io/safetensors.h"
#include "quant/int4_quant.h"
#include "quant/int8_quant.h"

namespace mobilellm::quant {
namespace {

class TorchaoMatch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* path = std::getenv("MOBILELLM_QUANT_REFERENCE");
    ASSERT_NE(path, nullptr) << "MOBILELLM_QUANT_REFERENCE must name the file quant_reference.py wrote";
    archive_ = new io::SafetensorsArchive(io::SafetensorsArchive::open(path));
  }
  static void TearDownTestSuite() { delete archive_; }

  template <typename T>
  static std::vector<T> tensor(const std::string& name, std::vector<int64_t>* shape = nullptr) {
    const io::TensorEntry* t = archive_->find(name);
    EXPECT_NE(t, nullptr) << name;
    if (!t) return {};
    if (shape) *shape = t->shape;
    std::vector<T> v(t->nbytes / sizeof(T));
    std::memcpy(v.data(), t->data, t->nbytes);
    return v;
  }

  static io::SafetensorsArchive* archive_;
};
io::SafetensorsArchive* TorchaoMatch::archive_ = nullptr;

// Bit patterns, so that −0 / +0 or a NaN would not pass as equal.
uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

TEST_F(TorchaoMatch, Int4Groupwise) {
  std::vector<int64_t> shape;
  auto w = tensor<float>("q4g32.w", &shape);
  auto codes = tensor<int8_t>("q4g32.codes");
  auto scales = tensor<float>("q4g32.scales");
  const int64_t rows = shape[0], cols = shape[1], groups = cols / kQ4Group;
  std::vector<int8_t> q(cols);
  std::vector<float> s(groups);
  for (int64_t r = 0; r < rows; ++r) {
    q4_quantize_groups(w.data() + r * cols, cols, kQ4Group, q.data(), s.data());
    for (int64_t g = 0; g < groups; ++g)
      ASSERT_EQ(bits(s[g]), bits(scales[r * groups + g])) << "row " << r << " group " << g << ": " << s[g];
    for (int64_t k = 0; k < cols; ++k)
      ASSERT_EQ(q[k], codes[r * cols + k]) << "row " << r << " col " << k << " w " << w[r * cols + k];
  }
}

TEST_F(TorchaoMatch, Int4ChannelwiseLearnedScale) {
  std::vector<int64_t> shape;
  auto w = tensor<float>("q4cw.w", &shape);
  auto learned = tensor<float>("q4cw.learned");
  auto codes = tensor<int8_t>("q4cw.codes");
  const int64_t rows = shape[0], cols = shape[1];
  std::vector<int8_t> q(cols);
  for (int64_t r = 0; r < rows; ++r) {
    q4_quantize(w.data() + r * cols, cols, learned[r], q.data());
    for (int64_t k = 0; k < cols; ++k) ASSERT_EQ(q[k], codes[r * cols + k]) << "row " << r << " col " << k;
  }
}

TEST_F(TorchaoMatch, Int4ChannelwiseComputedScale) {
  std::vector<int64_t> shape;
  auto w = tensor<float>("q4cw.w", &shape);
  auto codes = tensor<int8_t>("q4cw_amax.codes");
  auto scales = tensor<float>("q4cw_amax.scales");
  const int64_t rows = shape[0], cols = shape[1];
  std::vector<int8_t> q(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float s = q4_scale(max_abs(w.data() + r * cols, cols));
    ASSERT_EQ(bits(s), bits(scales[r])) << "row " << r;
    q4_quantize(w.data() + r * cols, cols, s, q.data());
    for (int64_t k = 0; k < cols; ++k) ASSERT_EQ(q[k], codes[r * cols + k]) << "row " << r << " col " << k;
  }
}

void expect_int8_rows(const std::vector<float>& x, const std::vector<int8_t>& codes, const std::vector<float>& scales,
                      const std::vector<int8_t>& zps, int64_t width, const char* what) {
  const int64_t rows = static_cast<int64_t>(scales.size());
  std::vector<int8_t> q(width);
  for (int64_t r = 0; r < rows; ++r) {
    const Int8Params p = int8_quantize_row(x.data() + r * width, width, q.data());
    ASSERT_EQ(bits(p.scale), bits(scales[r])) << what << " row " << r;
    ASSERT_EQ(p.zero_point, zps[r]) << what << " row " << r;
    for (int64_t k = 0; k < width; ++k)
      ASSERT_EQ(q[k], codes[r * width + k]) << what << " row " << r << " col " << k << " x " << x[r * width + k];
  }
}

TEST_F(TorchaoMatch, Int8PerTokenActivations) {
  std::vector<int64_t> shape;
  auto x = tensor<float>("act.x", &shape);
  expect_int8_rows(x, tensor<int8_t>("act.codes"), tensor<float>("act.scales"), tensor<int8_t>("act.zps"), shape[1],
                   "activation");
}

TEST_F(TorchaoMatch, Int8KvPerTokenPerHead) {
  std::vector<int64_t> shape;
  auto x = tensor<float>("kv.x", &shape);
  expect_int8_rows(x, tensor<int8_t>("kv.codes"), tensor<float>("kv.scales"), tensor<int8_t>("kv.zps"), shape[2], "kv");
}

}  // namespace
}  // namespace mobilellm::quant
