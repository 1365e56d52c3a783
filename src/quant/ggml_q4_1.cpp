#include "quant/ggml_q4_1.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/dtype.h"

namespace mobilellm::quant {

bool ggml_q4_1_quantize_block(const float* x, uint8_t* block) {
  const float mn = *std::min_element(x, x + 32), mx = *std::max_element(x, x + 32);
  const float d = (mx - mn) / 15.0f;
  const float id = d == 0.0f ? 0.0f : 1.0f / d;
  uint8_t q[32];
  for (int k = 0; k < 32; ++k) {
    // Rounded twice, as numpy and ggml do (CMakeLists.txt: no fused multiply-add here).
    q[k] = static_cast<uint8_t>(std::min(15.0f, std::trunc((x[k] - mn) * id + 0.5f)));
  }
  const uint16_t d16 = float_to_f16(d), m16 = float_to_f16(mn);
  std::memcpy(block, &d16, 2);
  std::memcpy(block + 2, &m16, 2);
  for (int j = 0; j < 16; ++j) block[4 + j] = static_cast<uint8_t>(q[j] | q[j + 16] << 4);
  return std::isfinite(f16_to_float(d16)) && std::isfinite(f16_to_float(m16));
}

}  // namespace mobilellm::quant
