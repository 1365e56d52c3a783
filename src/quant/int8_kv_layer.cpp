#include "quant/int8_kv_layer.h"

#include <cstring>

#include "quant/int8_quant.h"
#include "runtime/dtype.h"

namespace mobilellm::quant {

Int8KvLayer::Int8KvLayer(int64_t capacity, int64_t heads, int64_t head_dim)
    : capacity_(capacity), heads_(heads), head_dim_(head_dim) {
  const size_t codes = static_cast<size_t>(capacity * heads * head_dim);
  const size_t meta = static_cast<size_t>(capacity * heads);
  memory_ = ReservedMemory(2 * codes + 2 * meta * sizeof(uint16_t) + 2 * meta);
  if (memory_.bytes() == 0) return;
  uint8_t* base = memory_.data();
  k_ = reinterpret_cast<int8_t*>(base);
  v_ = k_ + codes;
  k_scale_ = reinterpret_cast<uint16_t*>(base + 2 * codes);  // an even offset: 2-byte aligned
  v_scale_ = k_scale_ + meta;
  k_zero_ = reinterpret_cast<int8_t*>(v_scale_ + meta);
  v_zero_ = k_zero_ + meta;
}

void Int8KvLayer::write(int64_t row, const float* k, const float* v) {
  for (int64_t h = 0; h < heads_; ++h) {
    const int64_t at = (h * capacity_ + row) * head_dim_, meta = h * capacity_ + row;
    const Int8Params pk = int8_quantize_row(k + h * head_dim_, head_dim_, k_ + at);
    const Int8Params pv = int8_quantize_row(v + h * head_dim_, head_dim_, v_ + at);
    k_scale_[meta] = float_to_f16(pk.scale);
    v_scale_[meta] = float_to_f16(pv.scale);
    k_zero_[meta] = static_cast<int8_t>(pk.zero_point);
    v_zero_[meta] = static_cast<int8_t>(pv.zero_point);
  }
}

void Int8KvLayer::copy_row(int64_t to, const Int8KvLayer& src, int64_t from) {
  const size_t width = static_cast<size_t>(head_dim_);
  for (int64_t h = 0; h < heads_; ++h) {
    std::memcpy(k_ + (h * capacity_ + to) * head_dim_, src.k_ + (h * src.capacity_ + from) * head_dim_, width);
    std::memcpy(v_ + (h * capacity_ + to) * head_dim_, src.v_ + (h * src.capacity_ + from) * head_dim_, width);
    k_scale_[h * capacity_ + to] = src.k_scale_[h * src.capacity_ + from];
    v_scale_[h * capacity_ + to] = src.v_scale_[h * src.capacity_ + from];
    k_zero_[h * capacity_ + to] = src.k_zero_[h * src.capacity_ + from];
    v_zero_[h * capacity_ + to] = src.v_zero_[h * src.capacity_ + from];
  }
}

void Int8KvLayer::release_from(int64_t row) {
  if (row >= capacity_ || memory_.bytes() == 0) return;
  const uint8_t* base = memory_.data();
  auto release = [&](const void* first, const void* end) {
    const auto* a = static_cast<const uint8_t*>(first);
    memory_.release(static_cast<size_t>(a - base), static_cast<size_t>(static_cast<const uint8_t*>(end) - a));
  };
  // Each head's rows are contiguous in each of the six arrays: its tail goes.
  for (int64_t h = 0; h < heads_; ++h) {
    const int64_t end = (h + 1) * capacity_, from = h * capacity_ + row;
    release(k_ + from * head_dim_, k_ + end * head_dim_);
    release(v_ + from * head_dim_, v_ + end * head_dim_);
    release(k_scale_ + from, k_scale_ + end);
    release(v_scale_ + from, v_scale_ + end);
    release(k_zero_ + from, k_zero_ + end);
    release(v_zero_ + from, v_zero_ + end);
  }
}

Int8KvHead Int8KvLayer::head(int64_t h, int64_t first) const {
  Int8KvHead view;
  view.k = k_ + (h * capacity_ + first) * head_dim_;
  view.v = v_ + (h * capacity_ + first) * head_dim_;
  view.k_scale = k_scale_ + h * capacity_ + first;
  view.v_scale = v_scale_ + h * capacity_ + first;
  view.k_zero = k_zero_ + h * capacity_ + first;
  view.v_zero = v_zero_ + h * capacity_ + first;
  view.row_stride = head_dim_;
  return view;
}

}  // namespace mobilellm::quant
