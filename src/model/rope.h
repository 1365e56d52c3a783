#pragma once
// Position-dependent factors of the attention: RoPE rotation angles (with
// Llama-3 frequency smoothing when configured) and Llama-4's attention
// temperature for no-RoPE layers. Computed in fp32 the way transformers does.
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace mobilellm::model {

class RopeTable {
 public:
  explicit RopeTable(const ModelConfig& config);
  // cos and sin of the head_dim/2 angles at `position`.
  void angles(int64_t position, float* cos, float* sin) const;
  int64_t half_dim() const { return static_cast<int64_t>(inv_freq_.size()); }

 private:
  std::vector<float> inv_freq_;
};

// 1 + attn_scale · log(floor((pos + 1) / floor_scale) + 1)
float attention_temperature(const ModelConfig& config, int64_t position);

}  // namespace mobilellm::model
