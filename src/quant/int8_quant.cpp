#include "quant/int8_quant.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace mobilellm::quant {

Int8Params int8_params_for_range(float mn, float mx) {
  const float lo = std::min(mn, 0.0f), hi = std::max(mx, 0.0f);
  Int8Params p;
  p.scale = std::max((hi - lo) / 255.0f, FLT_MIN);
  const float zp = -128.0f - std::nearbyint(lo / p.scale);
  p.zero_point = static_cast<int32_t>(std::clamp(zp, -128.0f, 127.0f));
  return p;
}

Int8Params int8_params(const float* x, int64_t n) {
  float mn = 0.0f, mx = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    mn = std::min(mn, x[i]);
    mx = std::max(mx, x[i]);
  }
  return int8_params_for_range(mn, mx);
}

int8_t int8_code(float x, float inverse_scale, int32_t zero_point) {
  const float q = std::nearbyint(x * inverse_scale) + static_cast<float>(zero_point);
  return static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
}

void int8_quantize(const float* x, int64_t n, Int8Params p, int8_t* q) {
  const float inverse = 1.0f / p.scale;
  for (int64_t i = 0; i < n; ++i) q[i] = int8_code(x[i], inverse, p.zero_point);
}

Int8Params int8_quantize_row(const float* x, int64_t n, int8_t* q) {
  const Int8Params p = int8_params(x, n);
  int8_quantize(x, n, p, q);
  return p;
}

}  // namespace mobilellm::quant
