// The quantized kernel tables under test (tables_under_test.h) against the
// scalar twin, across odd sizes; the scalar twin against a direct fp64 evaluation of the
// dequantized product; the packed layout against its definition.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "quant/ggml_q4_1.h"
#include "quant/int4_quant.h"
#include "quant/int8_quant.h"
#include "quant/quant_kernels.h"
#include "runtime/cpu_features.h"
#include "runtime/dtype.h"
#include "tables_under_test.h"
#include "support/threads_or_skip.h"

namespace mobilellm::quant {
namespace {

struct Packed {
  std::vector<int8_t> codes;
  std::vector<uint16_t> amax;
  std::vector<float> row_scale;
  std::vector<uint8_t> bytes;
  Q4Matrix w;
};

// Random weights quantized the way the converter does.
Packed make_weights(Q4Scheme scheme, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  Packed p;
  p.codes.resize(rows * cols);
  p.amax.resize(rows * (cols / 32));
  p.row_scale.resize(rows);
  std::vector<float> row(cols);
  std::vector<uint8_t> ggml_blocks(scheme == Q4Scheme::kAffine32 ? rows * (cols / 32) * kGgmlQ4_1BlockBytes : 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = bf16_to_float(float_to_bf16(normal(rng)));
    if (scheme == Q4Scheme::kAffine32) {
      for (int64_t g = 0; g < cols / 32; ++g)
        EXPECT_TRUE(ggml_q4_1_quantize_block(row.data() + 32 * g,
                                             ggml_blocks.data() + (r * (cols / 32) + g) * kGgmlQ4_1BlockBytes));
    } else if (scheme == Q4Scheme::kGroup32) {
      for (int64_t g = 0; g < cols / 32; ++g) {
        p.amax[r * (cols / 32) + g] = q4_stored_amax(max_abs(row.data() + 32 * g, 32));
        q4_quantize(row.data() + 32 * g, 32, q4_scale(bf16_to_float(p.amax[r * (cols / 32) + g])),
                    p.codes.data() + r * cols + 32 * g);
      }
    } else {
      p.row_scale[r] = q4_scale(max_abs(row.data(), cols)) * 0.8f;  // a "learned" scale that clips
      q4_quantize(row.data(), cols, p.row_scale[r], p.codes.data() + r * cols);
    }
  }
  p.bytes.resize(q4_packed_bytes(scheme, rows, cols));
  if (scheme == Q4Scheme::kAffine32)
    q4_pack_ggml_q4_1(rows, cols, ggml_blocks.data(), p.bytes.data());
  else
    q4_pack(scheme, rows, cols, p.codes.data(), p.amax.data(), p.row_scale.data(), p.bytes.data());
  p.w = q4_view(scheme, rows, cols, p.bytes.data());
  return p;
}

std::vector<float> make_activations(int64_t m, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(m * cols);
  for (int64_t i = 0; i < m; ++i) {
    // Each row its own magnitude and offset: zero points all over the range.
    const float magnitude = std::pow(10.0f, static_cast<float>(i % 5) - 2.0f);
    const float offset = static_cast<float>(i % 3 - 1) * magnitude;
    for (int64_t k = 0; k < cols; ++k) x[i * cols + k] = normal(rng) * magnitude + offset;
  }
  if (m > 2) std::fill(x.begin() + 2 * cols, x.begin() + 3 * cols, 0.0f);  // an all-zero token
  return x;
}

std::string isa_label(const QuantKernels& k) { return kernels::isa_name(k.isa); }

TEST(Q4Layout, CodesScalesAndRowTermsRoundTrip) {
  for (auto scheme : {Q4Scheme::kGroup32, Q4Scheme::kChannel}) {
    const int64_t rows = 13, cols = 96;
    Packed p = make_weights(scheme, rows, cols, 7);
    for (int64_t r = 0; r < rows; ++r) {
      double term = 0.0;
      for (int64_t k = 0; k < cols; ++k) {
        ASSERT_EQ(q4_code_at(p.w, r, k), p.codes[r * cols + k]) << r << "," << k;
        term += static_cast<double>(q4_scale_at(p.w, r, k / 32)) * p.codes[r * cols + k];
      }
      for (int64_t g = 0; g < cols / 32; ++g) {
        const float want =
            scheme == Q4Scheme::kGroup32 ? q4_scale(bf16_to_float(p.amax[r * (cols / 32) + g])) : p.row_scale[r];
        ASSERT_EQ(q4_scale_at(p.w, r, g), want);
      }
      EXPECT_NEAR(p.w.row_term[r], term, 1e-6 * std::fabs(term) + 1e-12);
    }
  }
}

TEST(Q4Layout, GgmlQ4_1BlocksRoundTripBitForBit) {
  const int64_t rows = 13, cols = 96, groups = cols / 32;
  std::mt19937 rng(3);
  // Arbitrary bytes: every nibble, and d / m bit patterns a quantizer would never produce.
  std::vector<uint8_t> blocks(rows * groups * kGgmlQ4_1BlockBytes);
  for (auto& b : blocks) b = static_cast<uint8_t>(rng());
  for (int64_t i = 0; i < rows * groups; ++i) {  // finite d and m: the row terms stay finite
    blocks[i * kGgmlQ4_1BlockBytes + 1] &= 0x3B;
    blocks[i * kGgmlQ4_1BlockBytes + 3] &= 0xBB;
  }
  std::vector<uint8_t> packed(q4_packed_bytes(Q4Scheme::kAffine32, rows, cols));
  q4_pack_ggml_q4_1(rows, cols, blocks.data(), packed.data());
  const Q4Matrix w = q4_view(Q4Scheme::kAffine32, rows, cols, packed.data());
  std::vector<uint8_t> back(groups * kGgmlQ4_1BlockBytes);
  std::vector<float> deq(cols);
  for (int64_t r = 0; r < rows; ++r) {
    q4_row_to_ggml_q4_1(w, r, back.data());
    ASSERT_TRUE(std::equal(back.begin(), back.end(), blocks.begin() + r * groups * kGgmlQ4_1BlockBytes)) << r;
    q4_dequantize_row(w, r, deq.data());
    double term = 0.0;
    for (int64_t k = 0; k < cols; ++k) {
      const uint8_t* b = blocks.data() + (r * groups + k / 32) * kGgmlQ4_1BlockBytes;
      const int64_t j = k % 32;
      const int q = j < 16 ? b[4 + j] & 0x0F : b[4 + j - 16] >> 4;
      uint16_t d, m;
      std::memcpy(&d, b, 2);
      std::memcpy(&m, b + 2, 2);
      ASSERT_EQ(deq[k], f16_to_float(d) * static_cast<float>(q) + f16_to_float(m)) << r << "," << k;
      term += static_cast<double>(f16_to_float(d)) * q + f16_to_float(m);
    }
    EXPECT_NEAR(w.row_term[r], term, 1e-6 * std::fabs(term) + 1e-12);
  }
}

TEST(Q4Layout, StoredAmaxIsExactForBf16AndRoundsUpOtherwise) {
  EXPECT_EQ(bf16_to_float(q4_stored_amax(0.0234375f)), 0.0234375f);
  const float odd = 0.1f;  // not a bf16 number
  EXPECT_GT(bf16_to_float(q4_stored_amax(odd)), odd);
  EXPECT_LT(bf16_to_float(q4_stored_amax(odd)), odd * (1.0f + 1.0f / 128));
}

TEST(QuantizeRows, BitIdenticalToTheCodecOnEveryIsa) {
  for (int64_t cols : {32, 96, 1280}) {
    const int64_t m = 7;
    std::vector<float> x = make_activations(m, cols, 3);
    x[5] = 1e-41f;  // a subnormal in a row that is otherwise tiny
    for (const QuantKernels* k : tables_under_test()) {
      Int8RowsBuffer buffer(m, cols);
      Int8Rows out = buffer.rows();
      k->quantize_rows(x.data(), m, out);
      std::vector<int8_t> q(cols);
      for (int64_t i = 0; i < m; ++i) {
        const Int8Params p = int8_quantize_row(x.data() + i * cols, cols, q.data());
        ASSERT_EQ(out.scale[i], p.scale) << isa_label(*k) << " row " << i;
        ASSERT_EQ(out.zero[i], p.zero_point) << isa_label(*k) << " row " << i;
        for (int64_t c = 0; c < cols; ++c)
          ASSERT_EQ(out.q[i * cols + c], q[c]) << isa_label(*k) << " " << i << "," << c;
        for (int64_t g = 0; g < cols / 32; ++g) {
          int32_t sum = 0;
          for (int64_t c = 0; c < 32; ++c) sum += q[32 * g + c];
          ASSERT_EQ(out.group_term[i * (cols / 32) + g], 8 * sum) << isa_label(*k);
        }
      }
    }
  }
}

// Σ_k x̂·ŵ in fp64 from the codes and scales (kAffine32: d·q + m).
double direct(const Int8Rows& x, int64_t i, const Packed& p, int64_t row) {
  const int64_t cols = p.w.cols;
  double sum = 0.0;
  for (int64_t k = 0; k < cols; ++k) {
    const double xv = (static_cast<double>(x.q[i * cols + k]) - x.zero[i]) * x.scale[i];
    if (p.w.scheme == Q4Scheme::kAffine32)
      sum += xv * (static_cast<double>(q4_scale_at(p.w, row, k / 32)) * q4_nibble_at(p.w, row, k) +
                   f16_to_float(q4_affine_m_bits(p.w, row, k / 32)));
    else
      sum += xv * p.codes[row * cols + k] * q4_scale_at(p.w, row, k / 32);
  }
  return sum;
}

// Tolerance: fp32 rounding of sums whose terms reach Σ|x̂|·|ŵ| (kAffine32:
// the partial sums d·Σq_x·q and m·Σq_x reach 15·|d| and |m| per code).
double bound(const Int8Rows& x, int64_t i, const Packed& p, int64_t row, double relative) {
  const int64_t cols = p.w.cols;
  double sum = 0.0;
  for (int64_t k = 0; k < cols; ++k) {
    const double weight = p.w.scheme == Q4Scheme::kAffine32
                              ? 15.0 * std::fabs(q4_scale_at(p.w, row, k / 32)) +
                                    std::fabs(f16_to_float(q4_affine_m_bits(p.w, row, k / 32)))
                              : 8.0 * q4_scale_at(p.w, row, k / 32);
    sum += std::fabs((static_cast<double>(x.q[i * cols + k]) + 128.0) * x.scale[i] * weight);
  }
  return relative * sum + 1e-30;
}

TEST(Q4Matmul, ScalarTwinMatchesTheDequantizedProduct) {
  for (auto scheme : {Q4Scheme::kGroup32, Q4Scheme::kChannel, Q4Scheme::kAffine32}) {
    const int64_t rows = 19, cols = 160, m = 6;
    Packed p = make_weights(scheme, rows, cols, 11);
    std::vector<float> xf = make_activations(m, cols, 5);
    Int8RowsBuffer buffer(m, cols);
    Int8Rows x = buffer.rows();
    const QuantKernels& scalar = *quant_kernels_for(kernels::Isa::kScalar);
    scalar.quantize_rows(xf.data(), m, x);
    std::vector<float> y(m * rows);
    scalar.q4_matmul_tiles(x, m, p.w, 0, p.w.tiles(), y.data(), rows);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t r = 0; r < rows; ++r)
        ASSERT_NEAR(y[i * rows + r], direct(x, i, p, r), bound(x, i, p, r, 1e-6)) << "token " << i << " row " << r;
  }
}

// The i8mm table does the twin's float work operation for operation (both
// built without contracted multiply-adds): it must match to the bit.
bool bit_exact(const QuantKernels& k) { return k.isa == kernels::Isa::kI8mm; }

uint32_t bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

TEST(Q4Matmul, EveryIsaMatchesTheScalarTwin) {
  struct Shape {
    int64_t rows, cols, m;
  };
  // Odd row counts (partial tiles), token counts around the token block of
  // 4, and a width × token count that splits K into several blocks.
  const Shape shapes[] = {{1, 32, 1},    {7, 64, 2},   {8, 96, 3},     {9, 32, 4},      {17, 256, 5},
                          {67, 1280, 1}, {33, 160, 9}, {24, 4128, 33}, {13, 1312, 130}, {11, 6144, 300}};
  for (auto scheme : {Q4Scheme::kGroup32, Q4Scheme::kChannel, Q4Scheme::kAffine32}) {
    for (const Shape& s : shapes) {
      Packed p = make_weights(scheme, s.rows, s.cols, static_cast<uint32_t>(s.rows * 31 + s.cols));
      std::vector<float> xf = make_activations(s.m, s.cols, static_cast<uint32_t>(s.m));
      Int8RowsBuffer buffer(s.m, s.cols);
      Int8Rows x = buffer.rows();
      const QuantKernels& scalar = *quant_kernels_for(kernels::Isa::kScalar);
      scalar.quantize_rows(xf.data(), s.m, x);
      const int64_t ldy = s.rows + 3;  // a row stride wider than the matrix
      std::vector<float> want(s.m * ldy, -1.0f);
      scalar.q4_matmul_tiles(x, s.m, p.w, 0, p.w.tiles(), want.data(), ldy);
      for (const QuantKernels* k : tables_under_test()) {
        std::vector<float> got(s.m * ldy, -1.0f);
        // Two calls over a split tile range, as the pool makes them.
        const int64_t mid = p.w.tiles() / 2;
        k->q4_matmul_tiles(x, s.m, p.w, 0, mid, got.data(), ldy);
        k->q4_matmul_tiles(x, s.m, p.w, mid, p.w.tiles(), got.data(), ldy);
        for (int64_t i = 0; i < s.m; ++i) {
          for (int64_t r = 0; r < ldy; ++r) {
            if (r >= s.rows) {
              ASSERT_EQ(got[i * ldy + r], -1.0f) << isa_label(*k) << ": wrote past the matrix's rows";
              continue;
            }
            if (bit_exact(*k)) {
              ASSERT_EQ(bits(got[i * ldy + r]), bits(want[i * ldy + r]))
                  << isa_label(*k) << " (bit for bit) scheme " << static_cast<int>(scheme) << " shape " << s.rows << "x"
                  << s.cols << " m " << s.m << " token " << i << " row " << r << ": " << got[i * ldy + r] << " vs "
                  << want[i * ldy + r];
              continue;
            }
            ASSERT_NEAR(got[i * ldy + r], want[i * ldy + r], bound(x, i, p, r, 2e-6))
                << isa_label(*k) << " scheme " << static_cast<int>(scheme) << " shape " << s.rows << "x" << s.cols
                << " m " << s.m << " token " << i << " row " << r;
          }
        }
      }
    }
  }
}

TEST(Q4Matmul, ThreadPoolSplitMatchesOneCall) {
  MOBILELLM_SKIP_WITHOUT_THREADS();
  const int64_t rows = 83, cols = 640, m = 5;
  Packed p = make_weights(Q4Scheme::kGroup32, rows, cols, 1);
  std::vector<float> xf = make_activations(m, cols, 2);
  Int8RowsBuffer buffer(m, cols);
  Int8Rows x = buffer.rows();
  const QuantKernels& k = quant_kernels();
  k.quantize_rows(xf.data(), m, x);
  std::vector<float> want(m * rows), got(m * rows);
  k.q4_matmul_tiles(x, m, p.w, 0, p.w.tiles(), want.data(), rows);
  ThreadPool pool(3);
  q4_matmul(pool, k, x, m, p.w, got.data());
  EXPECT_EQ(got, want);
}

// The AMX table is runnable exactly where the CPU has AMX-INT8 and the OS
// granted the tile state, so quant_kernel_tests runs it on such a machine.
TEST(QuantDispatch, AmxTableRunsWhereTheCpuHasAmx) {
  const CpuFeatures& cpu = cpu_features();
  const QuantKernels* amx = quant_kernels_for(kernels::Isa::kAmx);
  EXPECT_EQ(amx != nullptr, cpu.amx_int8 && cpu.avx512_vnni);
  if (amx) {
    EXPECT_EQ(amx->isa, kernels::Isa::kAmx);
  }
}

// The i8mm table is runnable exactly where the CPU has the dot-product and
// i8mm extensions (qemu-aarch64 -cpu max), so the bit-for-bit check above ran.
TEST(QuantDispatch, I8mmTableRunsWhereTheCpuHasI8mm) {
  const CpuFeatures& cpu = cpu_features();
  const QuantKernels* i8mm = quant_kernels_for(kernels::Isa::kI8mm);
  EXPECT_EQ(i8mm != nullptr, cpu.neon_dotprod && cpu.neon_i8mm);
  if (i8mm) {
    EXPECT_EQ(i8mm->isa, kernels::Isa::kI8mm);
    EXPECT_EQ(quant_kernels().isa, kernels::Isa::kI8mm) << "the widest runnable table is chosen";
  }
}

}  // namespace
}  // namespace mobilellm::quant
