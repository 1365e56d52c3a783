// The q4_1 scheme against the gguf package (tools/reference/q4_1_reference.py
// writes the fixture): quantization and dequantization bit for bit, and every
// kernel table's product against the float product of gguf's dequantized weights.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "io/safetensors.h"
#include "quant/ggml_q4_1.h"
#include "quant/quant_kernels.h"
#include "runtime/dtype.h"

namespace mobilellm::quant {
namespace {

class GgufQ4_1 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* path = std::getenv("MOBILELLM_Q4_1_REFERENCE");
    ASSERT_NE(path, nullptr) << "MOBILELLM_Q4_1_REFERENCE must name the file q4_1_reference.py wrote";
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
io::SafetensorsArchive* GgufQ4_1::archive_ = nullptr;

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

TEST_F(GgufQ4_1, QuantizeIsBitIdentical) {
  std::vector<int64_t> shape;
  const auto w = tensor<float>("w", &shape);
  const auto blocks = tensor<uint8_t>("blocks");
  const int64_t rows = shape[0], cols = shape[1];
  ASSERT_EQ(static_cast<int64_t>(blocks.size()), rows * cols / 32 * kGgmlQ4_1BlockBytes);
  uint8_t block[kGgmlQ4_1BlockBytes];
  for (int64_t b = 0; b < rows * cols / 32; ++b) {
    ASSERT_TRUE(ggml_q4_1_quantize_block(w.data() + 32 * b, block)) << "block " << b;
    for (int64_t i = 0; i < kGgmlQ4_1BlockBytes; ++i)
      ASSERT_EQ(block[i], blocks[b * kGgmlQ4_1BlockBytes + i]) << "block " << b << " byte " << i;
  }
}

TEST_F(GgufQ4_1, PackedBlocksDequantizeBitIdentically) {
  std::vector<int64_t> shape;
  const auto blocks = tensor<uint8_t>("blocks", &shape);
  const auto dequant = tensor<float>("dequant");
  const int64_t rows = shape[0], cols = shape[1] / kGgmlQ4_1BlockBytes * 32;
  std::vector<uint8_t> packed(q4_packed_bytes(Q4Scheme::kAffine32, rows, cols));
  q4_pack_ggml_q4_1(rows, cols, blocks.data(), packed.data());
  const Q4Matrix w = q4_view(Q4Scheme::kAffine32, rows, cols, packed.data());
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    q4_dequantize_row(w, r, row.data());
    for (int64_t k = 0; k < cols; ++k)
      ASSERT_EQ(bits(row[k]), bits(dequant[r * cols + k])) << "row " << r << " col " << k << ": " << row[k];
  }
}

// Each table on int8 activations against gguf's ŵ: tightly against x̂·ŵᵀ (x̂:
// the int8 activations the kernel saw), loosely against the float y = x·ŵᵀ
// (at most one int8 step s per activation, times Σ|ŵ|).
TEST_F(GgufQ4_1, EveryTableMatchesTheFloatProductOfGgufsDequantizedWeights) {
  std::vector<int64_t> shape, x_shape;
  const auto blocks = tensor<uint8_t>("blocks", &shape);
  const auto dequant = tensor<float>("dequant");
  const auto xf = tensor<float>("x", &x_shape);
  const auto y_ref = tensor<float>("y");
  const int64_t rows = shape[0], cols = shape[1] / kGgmlQ4_1BlockBytes * 32, m = x_shape[0];
  std::vector<uint8_t> packed(q4_packed_bytes(Q4Scheme::kAffine32, rows, cols));
  q4_pack_ggml_q4_1(rows, cols, blocks.data(), packed.data());
  const Q4Matrix w = q4_view(Q4Scheme::kAffine32, rows, cols, packed.data());
  for (kernels::Isa isa : runnable_quant_isas()) {
    const QuantKernels& k = *quant_kernels_for(isa);
    Int8RowsBuffer buffer(m, cols);
    const Int8Rows x = buffer.rows();
    k.quantize_rows(xf.data(), m, x);
    std::vector<float> y(m * rows);
    k.q4_matmul_tiles(x, m, w, 0, w.tiles(), y.data(), rows);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t r = 0; r < rows; ++r) {
        // x̂·ŵ in fp64 with the kernel's own int8 activations: only fp32
        // rounding of the partial sums d·Σq_x·q and m·Σq_x (codes ≤ 15, |q_x| ≤ 128) separates it.
        double exact = 0.0, rounding = 0.0, w_abs = 0.0, product_abs = 0.0;
        for (int64_t c = 0; c < cols; ++c) {
          const double xq = (static_cast<double>(x.q[i * cols + c]) - x.zero[i]) * x.scale[i];
          const double wv = dequant[r * cols + c];
          exact += xq * wv;
          rounding +=
              (std::fabs(x.q[i * cols + c]) + 128.0) * x.scale[i] *
              (15.0 * std::fabs(q4_scale_at(w, r, c / 32)) + std::fabs(f16_to_float(q4_affine_m_bits(w, r, c / 32))));
          w_abs += std::fabs(wv);
          product_abs += std::fabs(wv * xf[i * cols + c]);
        }
        ASSERT_NEAR(y[i * rows + r], exact, 2e-6 * rounding)
            << kernels::isa_name(isa) << " token " << i << " row " << r;
        // Against the float reference: within one int8 step per activation.
        ASSERT_NEAR(y[i * rows + r], y_ref[i * rows + r], x.scale[i] * w_abs + 1e-5 * product_abs)
            << kernels::isa_name(isa) << " token " << i << " row " << r;
      }
  }
}

}  // namespace
}  // namespace mobilellm::quant
