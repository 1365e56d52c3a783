#pragma once
// A linear layer's weight matrix [rows][cols], float (in its stored type) or
// int4 (quant/q4_matrix.h), and the one call that runs the products of an
// input with such matrices. The layer code sees only Linear: a new weight
// format is a new kind of matrix here plus its kernels.
#include <cstdint>
#include <initializer_list>

#include "kernels/float_kernels.h"
#include "quant/int8_rows.h"
#include "quant/q4_matrix.h"
#include "quant/quant_kernels.h"
#include "runtime/thread_pool.h"

namespace mobilellm::model {

struct Linear {
  // Float weights: float models, and the bf16 / f32 matrix the converter keeps
  // under an int4 scheme for columns int4 groups do not divide.
  kernels::WeightMatrix f;
  quant::Q4Matrix q;  // int4 weights (blocks non-null), or empty

  static Linear of(const kernels::WeightMatrix& m) { return {m, {}}; }
  static Linear of(const quant::Q4Matrix& m) { return {{}, m}; }

  bool int4() const { return q.blocks != nullptr; }
  int64_t rows() const { return int4() ? q.rows : f.rows; }
  int64_t cols() const { return int4() ? q.cols : f.cols; }
  // Bytes of the stored matrix (what one pass over it reads).
  size_t stored_bytes() const;
  // Row r as fp32 (an embedding lookup).
  void row(int64_t r, float* out) const;
};

// out [n][w.rows()] = x [n][width] · wᵀ for each product.
struct LinearProduct {
  const Linear* w;
  float* out;
};

// Runs products for inputs of up to `max_rows` rows of up to `max_width` values.
class LinearRunner {
 public:
  LinearRunner(ThreadPool& pool, int64_t max_rows, int64_t max_width);

  // Products of one input x [n][width]: the int4 ones on the input quantized
  // per row once (spec §4.3) and in one job for the pool, the float ones with
  // the float kernels.
  void run(const float* x, int64_t n, int64_t width, std::initializer_list<LinearProduct> products);

 private:
  void quantize(const float* x, int64_t n, int64_t width);

  ThreadPool& pool_;
  const kernels::FloatKernels& k_;
  const quant::QuantKernels& qk_;
  int64_t max_rows_, max_width_;
  quant::Int8RowsBuffer act_;  // allocated at the first int4 product
  quant::Int8Rows act_rows_;
};

}  // namespace mobilellm::model
