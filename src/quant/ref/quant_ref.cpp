// Scalar reference twin of every quantized kernel: plain loops over the
// documented layouts, the same integer algebra as the SIMD tables.
#include <cmath>
#include <cstring>
#include <vector>

#include "quant/int8_quant.h"
#include "quant/tables.h"
#include "runtime/dtype.h"

namespace mobilellm::quant {
namespace {

void quantize_rows(const float* x, int64_t m, const Int8Rows& out) {
  const int64_t cols = out.cols, groups = cols / 32;
  for (int64_t i = 0; i < m; ++i) {
    int8_t* q = out.q + i * cols;
    const Int8Params p = int8_quantize_row(x + i * cols, cols, q);
    out.scale[i] = p.scale;
    out.zero[i] = p.zero_point;
    for (int64_t g = 0; g < groups; ++g) {
      int32_t sum = 0;
      for (int64_t k = 0; k < 32; ++k) sum += q[g * 32 + k];
      out.group_term[i * groups + g] = 8 * sum;
    }
  }
}

// Σ_k q_x[k]·nibble[r][k] over one block's 32 columns for row lane r.
int32_t block_dot(const uint8_t* block, int64_t r, const int8_t* qx) {
  int32_t sum = 0;
  for (int64_t c = 0; c < 4; ++c)
    for (int64_t i = 0; i < 4; ++i) {
      const uint8_t byte = block[32 * c + 4 * r + i];
      sum += (byte & 0x0F) * qx[8 * c + i] + (byte >> 4) * qx[8 * c + 4 + i];
    }
  return sum;
}

void q4_matmul_tiles(const Int8Rows& x, int64_t m, const Q4Matrix& w, int64_t tile_begin, int64_t tile_end, float* y,
                     int64_t ldy) {
  const int64_t groups = w.groups();
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    for (int64_t r = 0; r < kQ4TileRows; ++r) {
      const int64_t row = tile * kQ4TileRows + r;
      if (row >= w.rows) break;
      for (int64_t i = 0; i < m; ++i) {
        const int8_t* qx = x.q + i * x.cols;
        const int32_t* term = x.group_term + i * groups;
        float a;
        if (w.scheme == Q4Scheme::kGroup32) {
          float acc = 0.0f;
          for (int64_t g = 0; g < groups; ++g) {
            const uint8_t* block = w.block(tile, g);
            uint16_t amax;
            std::memcpy(&amax, block + kQ4CodeBytes + 2 * r, 2);
            acc += static_cast<float>(block_dot(block, r, qx + 32 * g) - term[g]) * bf16_to_float(amax);
          }
          a = acc * kInvQ4Range;
        } else if (w.scheme == Q4Scheme::kAffine32) {
          // Σ_k q_x·(d·q + m) = d·Σ q_x·q + m·Σ q_x, and Σ q_x = term / 8.
          float acc = 0.0f;
          for (int64_t g = 0; g < groups; ++g) {
            const uint8_t* block = w.block(tile, g);
            uint16_t d, mn;
            std::memcpy(&d, block + kQ4CodeBytes + 2 * r, 2);
            std::memcpy(&mn, block + kQ4CodeBytes + 16 + 2 * r, 2);
            acc += static_cast<float>(block_dot(block, r, qx + 32 * g)) * f16_to_float(d) +
                   static_cast<float>(term[g]) * 0.125f * f16_to_float(mn);
          }
          a = acc;
        } else {
          int32_t acc = 0;
          for (int64_t g = 0; g < groups; ++g) acc += block_dot(w.block(tile, g), r, qx + 32 * g) - term[g];
          a = static_cast<float>(acc) * w.row_scale[row];
        }
        y[i * ldy + row] = x.scale[i] * (a - static_cast<float>(x.zero[i]) * w.row_term[row]);
      }
    }
  }
}

// One key at a time: dequantize, score, rescale the running state.
void attention_int8(const float* q, int64_t g, const Int8KvHead& kv, int64_t n, int64_t head_dim, float scale,
                    const SoftmaxState& st) {
  std::vector<float> qsum(static_cast<size_t>(g), 0.0f);
  for (int64_t j = 0; j < g; ++j)
    for (int64_t d = 0; d < head_dim; ++d) qsum[j] += q[j * head_dim + d];
  for (int64_t t = 0; t < n; ++t) {
    const int8_t* k = kv.k + t * kv.row_stride;
    const int8_t* v = kv.v + t * kv.row_stride;
    const float k_scale = f16_to_float(kv.k_scale[t]) * scale, v_scale = f16_to_float(kv.v_scale[t]);
    const float k_zero = kv.k_zero[t], v_zero = kv.v_zero[t];
    for (int64_t j = 0; j < g; ++j) {
      float dot = 0.0f;
      for (int64_t d = 0; d < head_dim; ++d) dot += q[j * head_dim + d] * static_cast<float>(k[d]);
      const float s = (dot - k_zero * qsum[j]) * k_scale;
      const float m = std::fmax(st.max[j], s);
      const float correction = std::exp(st.max[j] - m), p = std::exp(s - m);
      st.sum[j] = st.sum[j] * correction + p;
      float* acc = st.acc + j * head_dim;
      for (int64_t d = 0; d < head_dim; ++d)
        acc[d] = acc[d] * correction + p * v_scale * (static_cast<float>(v[d]) - v_zero);
      st.max[j] = m;
    }
  }
}

// One row at a time, each over its own keys.
void attention_int8_ranged(const RangedQueries& queries, const Int8KvHead& kv, int64_t head_dim, float scale,
                           const SoftmaxState& st) {
  for (int64_t r = 0; r < queries.rows; ++r) {
    const int64_t first = queries.first[r];
    const SoftmaxState row{st.max + r, st.sum + r, st.acc + r * head_dim};
    attention_int8(queries.q[r], 1, kv.from(first), queries.end[r] - first, head_dim, scale, row);
  }
}

}  // namespace

const QuantKernels kScalarQuantKernels = {kernels::Isa::kScalar, quantize_rows, q4_matmul_tiles, attention_int8,
                                          attention_int8_ranged};

}  // namespace mobilellm::quant
