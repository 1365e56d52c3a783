#pragma once
// One layer's keys and values in the int8 KV cache (spec §4.4): `capacity`
// rows (positions, or the slots of a ring), each holding `heads` × head_dim
// codes for K and for V, with one fp16 scale and one int8 zero point per head
// and row (3 bytes per 64 values: +4.7 %). Codes are those of int8_quant.h,
// bit-identical to torchao's; the scale is stored rounded to fp16. Each head's
// rows are contiguous (head-major), so attention over one head streams
// through memory without touching the other heads' cache lines.
//
// The storage is reserved address space: pages are touched, and count in the
// resident set, only as rows are written, so a layer sized for 131,072
// positions costs nothing until the context grows and is never copied.
#include <cstddef>
#include <cstdint>

#include "quant/int8_attention.h"
#include "runtime/reserved_memory.h"

namespace mobilellm::quant {

class Int8KvLayer {
 public:
  Int8KvLayer(int64_t capacity, int64_t heads, int64_t head_dim);
  Int8KvLayer(const Int8KvLayer&) = delete;
  Int8KvLayer& operator=(const Int8KvLayer&) = delete;

  int64_t capacity() const { return capacity_; }
  // Bytes of one row, codes and scales and zero points of K and V.
  static int64_t row_bytes(int64_t heads, int64_t head_dim) { return 2 * heads * (head_dim + 3); }

  // Quantizes k and v ([heads][head_dim] each) into row `row`.
  void write(int64_t row, const float* k, const float* v);
  // Row `from` of `src` (same heads and head_dim) into row `to`.
  void copy_row(int64_t to, const Int8KvLayer& src, int64_t from);
  // Rows from `row` on are no longer needed: their memory goes back to the
  // system, and they read as zero until written again.
  void release_from(int64_t row);
  // Head h's rows from `first` on.
  Int8KvHead head(int64_t h, int64_t first) const;

 private:
  int64_t capacity_, heads_, head_dim_;
  ReservedMemory memory_;
  int8_t *k_ = nullptr, *v_ = nullptr;                // [heads][capacity][head_dim]
  uint16_t *k_scale_ = nullptr, *v_scale_ = nullptr;  // [heads][capacity]
  int8_t *k_zero_ = nullptr, *v_zero_ = nullptr;      // [heads][capacity]
};

}  // namespace mobilellm::quant
