#pragma once
// Activations of m tokens quantized per token (spec §4.3) in the form the q4
// kernels consume: codes plus, per token, scale, zero point and one term per
// group of 32 that folds the weight nibbles' +8 offset out of the dot product.
#include <cstdint>

#include "runtime/aligned_buffer.h"

namespace mobilellm::quant {

struct Int8Rows {
  int8_t* q = nullptr;            // [m][cols]
  float* scale = nullptr;         // [m]
  int32_t* zero = nullptr;        // [m]
  int32_t* group_term = nullptr;  // [m][cols / 32]: 8 · Σ_{k∈group} q[k]
  int64_t cols = 0;               // a multiple of 32
};

// Owns the storage for up to `max_rows` tokens of width up to `max_cols`.
class Int8RowsBuffer {
 public:
  Int8RowsBuffer() = default;
  Int8RowsBuffer(int64_t max_rows, int64_t max_cols) { resize(max_rows, max_cols); }
  void resize(int64_t max_rows, int64_t max_cols) {
    cols_ = max_cols;
    q_.resize(static_cast<size_t>(max_rows * max_cols));
    scale_.resize(static_cast<size_t>(max_rows));
    zero_.resize(static_cast<size_t>(max_rows));
    group_term_.resize(static_cast<size_t>(max_rows * (max_cols / 32)));
  }
  Int8Rows rows() { return rows(cols_); }
  // A view for rows of width cols ≤ max_cols.
  Int8Rows rows(int64_t cols) { return {q_.data(), scale_.data(), zero_.data(), group_term_.data(), cols}; }

 private:
  int64_t cols_ = 0;
  AlignedBuffer<int8_t> q_;
  AlignedBuffer<float> scale_;
  AlignedBuffer<int32_t> zero_;
  AlignedBuffer<int32_t> group_term_;
};

}  // namespace mobilellm::quant
