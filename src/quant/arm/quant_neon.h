#pragma once
// The NEON kernels the dot-product and the i8mm tables share (defined in
// quant_neon_dot.cpp): the i8mm table differs only in its int4 GEMM.
#include "quant/quant_kernels.h"

namespace mobilellm::quant::neon {

void quantize_rows(const float* x, int64_t m, const Int8Rows& out);
void attention_int8(const float* q, int64_t g, const Int8KvHead& kv, int64_t n, int64_t head_dim, float scale,
                    const SoftmaxState& state);
void attention_int8_ranged(const RangedQueries& queries, const Int8KvHead& kv, int64_t head_dim, float scale,
                           const SoftmaxState& state);

}  // namespace mobilellm::quant::neon
