#include "model/rope.h"

#include <cmath>

namespace mobilellm::model {

RopeTable::RopeTable(const ModelConfig& c) {
  const int64_t half = c.head_dim / 2;
  const float base = static_cast<float>(c.rope_theta);
  const float dim = static_cast<float>(c.head_dim);
  inv_freq_.resize(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) inv_freq_[i] = 1.0f / std::pow(base, static_cast<float>(2 * i) / dim);
  if (!c.rope_scaling.llama3) return;
  // transformers' _compute_llama3_parameters: low frequencies are divided by
  // `factor`, high ones kept, the band between interpolated.
  const auto& s = c.rope_scaling;
  const float factor = static_cast<float>(s.factor);
  const float old_len = static_cast<float>(s.original_max_position_embeddings);
  const float low_wavelen = old_len / static_cast<float>(s.low_freq_factor);
  const float high_wavelen = old_len / static_cast<float>(s.high_freq_factor);
  for (float& f : inv_freq_) {
    const float wavelen = 2.0f * static_cast<float>(M_PI) / f;
    float scaled = wavelen > low_wavelen ? f / factor : f;
    const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
    if (medium) {
      const float smooth = (old_len / wavelen - static_cast<float>(s.low_freq_factor)) /
                           static_cast<float>(s.high_freq_factor - s.low_freq_factor);
      scaled = (1.0f - smooth) * scaled / factor + smooth * scaled;
    }
    f = scaled;
  }
}

void RopeTable::angles(int64_t position, float* cos, float* sin) const {
  const float pos = static_cast<float>(position);
  for (size_t i = 0; i < inv_freq_.size(); ++i) {
    const float angle = pos * inv_freq_[i];
    cos[i] = std::cos(angle);
    sin[i] = std::sin(angle);
  }
}

float attention_temperature(const ModelConfig& c, int64_t position) {
  const float scaled = std::floor((static_cast<float>(position) + 1.0f) / static_cast<float>(c.floor_scale));
  return std::log1p(scaled) * static_cast<float>(c.attn_scale) + 1.0f;
}

}  // namespace mobilellm::model
