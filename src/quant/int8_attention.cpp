#include "quant/int8_attention.h"

#include <cmath>
#include <limits>

namespace mobilellm::quant {

void softmax_state_reset(const SoftmaxState& s, int64_t g, int64_t head_dim) {
  for (int64_t j = 0; j < g; ++j) {
    s.max[j] = -std::numeric_limits<float>::infinity();
    s.sum[j] = 0.0f;
  }
  for (int64_t i = 0; i < g * head_dim; ++i) s.acc[i] = 0.0f;
}

void softmax_state_merge(const SoftmaxState& into, const SoftmaxState& other, int64_t g, int64_t head_dim) {
  for (int64_t j = 0; j < g; ++j) {
    if (other.sum[j] == 0.0f) continue;  // saw no keys
    const float m = std::fmax(into.max[j], other.max[j]);
    const float a = into.sum[j] == 0.0f ? 0.0f : std::exp(into.max[j] - m);
    const float b = std::exp(other.max[j] - m);
    into.sum[j] = into.sum[j] * a + other.sum[j] * b;
    for (int64_t d = 0; d < head_dim; ++d)
      into.acc[j * head_dim + d] = into.acc[j * head_dim + d] * a + other.acc[j * head_dim + d] * b;
    into.max[j] = m;
  }
}

void softmax_state_finish(const SoftmaxState& s, int64_t g, int64_t head_dim, float* out) {
  for (int64_t j = 0; j < g; ++j) {
    const float inv = 1.0f / s.sum[j];
    for (int64_t d = 0; d < head_dim; ++d) out[j * head_dim + d] = s.acc[j * head_dim + d] * inv;
  }
}

}  // namespace mobilellm::quant
