#include "quant/int4_quant.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace mobilellm::quant {

float max_abs(const float* x, int64_t n) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

float q4_scale(float amax) { return std::max(amax / 7.5f, FLT_MIN); }

int8_t q4_code(float w, float inverse_scale) {
  // nearbyint rounds half to even in the default rounding mode, like torch.round.
  const float q = std::nearbyint(w * inverse_scale);
  return static_cast<int8_t>(std::clamp(q, -8.0f, 7.0f));
}

void q4_quantize(const float* w, int64_t n, float scale, int8_t* codes) {
  const float inverse = 1.0f / scale;
  for (int64_t i = 0; i < n; ++i) codes[i] = q4_code(w[i], inverse);
}

void q4_quantize_groups(const float* w, int64_t n, int64_t group, int8_t* codes, float* scales) {
  for (int64_t g = 0; g * group < n; ++g) {
    scales[g] = q4_scale(max_abs(w + g * group, group));
    q4_quantize(w + g * group, group, scales[g], codes + g * group);
  }
}

uint16_t q4_stored_amax(float amax) {
  uint32_t bits;
  std::memcpy(&bits, &amax, 4);
  if (bits & 0xFFFFu) bits += 0x10000u;  // amax ≥ 0 and finite: the next bf16 up
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace mobilellm::quant
