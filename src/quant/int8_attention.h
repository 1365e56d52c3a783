#pragma once
// Attention over the int8 KV cache (spec §4.4): one KV head's keys and
// values as int8 codes with one fp16 scale and int8 zero point per row
// (x ≈ (q − zero) · scale), read by an online-softmax kernel so that a long
// context can be split across threads and the partial results merged.
#include <cstdint>

namespace mobilellm::quant {

// Rows [0, n) of one KV head: codes of row t at k + t·row_stride (head_dim
// bytes), its scale and zero point at k_scale[t] / k_zero[t]; same for v.
struct Int8KvHead {
  const int8_t* k = nullptr;
  const int8_t* v = nullptr;
  const uint16_t* k_scale = nullptr;  // fp16
  const uint16_t* v_scale = nullptr;
  const int8_t* k_zero = nullptr;
  const int8_t* v_zero = nullptr;
  int64_t row_stride = 0;

  // The same head from row `first` on.
  Int8KvHead from(int64_t first) const {
    return {k + first * row_stride, v + first * row_stride, k_scale + first, v_scale + first,
            k_zero + first,         v_zero + first,         row_stride};
  }
};

// Running online-softmax state of g query rows: the largest score seen, the
// sum of e^(score − max) and the matching unnormalized Σ e^(score − max)·v.
struct SoftmaxState {
  float* max;  // [g], −inf before the first key
  float* sum;  // [g]
  float* acc;  // [g][head_dim]
};

// Query rows that each see their own range of key rows: row r (q[r], head_dim
// floats) attends to rows [first[r], end[r]) of a KV head. In prefill the
// positions of a block share most of their keys, so one pass over those keys
// serves all of their heads' rows.
struct RangedQueries {
  const float* const* q;
  const int64_t* first;
  const int64_t* end;
  int64_t rows;
};

// max = −inf, sum = 0, acc = 0.
void softmax_state_reset(const SoftmaxState& s, int64_t g, int64_t head_dim);
// Folds `other` (a disjoint set of keys for the same rows) into `into`.
void softmax_state_merge(const SoftmaxState& into, const SoftmaxState& other, int64_t g, int64_t head_dim);
// out[j] = acc[j] / sum[j].
void softmax_state_finish(const SoftmaxState& s, int64_t g, int64_t head_dim, float* out);

}  // namespace mobilellm::quant
