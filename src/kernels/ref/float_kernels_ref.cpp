// The scalar reference twin: the plainest C++ that computes what
// float_kernels.h specifies, fp32 throughout, std::exp. It is the truth the
// tests hold every ISA's table to, and the fallback on CPUs with no SIMD table.
#include <cmath>

#include "kernels/float_kernels.h"
#include "kernels/tables.h"

namespace mobilellm::kernels {
namespace {

float weight_at(const WeightMatrix& w, int64_t index) {
  switch (w.dtype) {
    case DType::kF32: return static_cast<const float*>(w.data)[index];
    case DType::kBF16: return bf16_to_float(static_cast<const uint16_t*>(w.data)[index]);
    case DType::kF16: return f16_to_float(static_cast<const uint16_t*>(w.data)[index]);
  }
  return 0.0f;
}

void matmul_range(const float* x, int64_t m, const WeightMatrix& w, int64_t n_begin, int64_t n_end, float* y,
                  int64_t ldy) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t n = n_begin; n < n_end; ++n) {
      float sum = 0.0f;
      for (int64_t k = 0; k < w.cols; ++k) sum += x[i * w.cols + k] * weight_at(w, n * w.cols + k);
      y[i * ldy + n] = sum;
    }
}

void rmsnorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * x[i];
  float scale = 1.0f / std::sqrt(sum / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * (weight ? weight[i] : 1.0f);
}

void rope_interleaved(float* x, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin) {
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t i = 0; i < head_dim / 2; ++i) {
      float* p = x + h * head_dim + 2 * i;
      float a = p[0], b = p[1];
      p[0] = a * cos[i] - b * sin[i];
      p[1] = a * sin[i] + b * cos[i];
    }
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void to_float(const void* src, DType dtype, int64_t n, float* dst) {
  WeightMatrix row{src, dtype, 1, n};
  for (int64_t i = 0; i < n; ++i) dst[i] = weight_at(row, i);
}

void attention(const float* q, int64_t g, const float* k, const float* v, int64_t kv_stride, int64_t n_keys,
               int64_t head_dim, float scale, float* out, float* scratch) {
  for (int64_t j = 0; j < g; ++j) {
    const float* qj = q + j * head_dim;
    float* s = scratch + j * n_keys;
    float max = -INFINITY;
    for (int64_t t = 0; t < n_keys; ++t) {
      float dot = 0.0f;
      for (int64_t d = 0; d < head_dim; ++d) dot += qj[d] * k[t * kv_stride + d];
      s[t] = dot * scale;
      max = std::fmax(max, s[t]);
    }
    float sum = 0.0f;
    for (int64_t t = 0; t < n_keys; ++t) {
      s[t] = std::exp(s[t] - max);
      sum += s[t];
    }
    float* o = out + j * head_dim;
    for (int64_t d = 0; d < head_dim; ++d) o[d] = 0.0f;
    for (int64_t t = 0; t < n_keys; ++t)
      for (int64_t d = 0; d < head_dim; ++d) o[d] += s[t] * v[t * kv_stride + d];
    for (int64_t d = 0; d < head_dim; ++d) o[d] /= sum;
  }
}

}  // namespace

constinit const FloatKernels kScalarFloatKernels{Isa::kScalar, &matmul_range, &rmsnorm,  &rope_interleaved,
                                                 &silu_mul,    &add,          &to_float, &attention};

}  // namespace mobilellm::kernels
