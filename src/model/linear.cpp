#include "model/linear.h"

#include <array>
#include <span>

#include "runtime/debug_assert.h"

namespace mobilellm::model {

size_t Linear::stored_bytes() const {
  if (int4()) return quant::q4_packed_bytes(q.scheme, q.rows, q.cols);
  return static_cast<size_t>(f.rows * f.cols) * dtype_size(f.dtype);
}

void Linear::row(int64_t r, float* out) const {
  MOBILELLM_DASSERT(r >= 0 && r < rows());
  if (int4()) return quant::q4_dequantize_row(q, r, out);
  const size_t row_bytes = static_cast<size_t>(f.cols) * dtype_size(f.dtype);
  kernels::float_kernels().to_float(static_cast<const uint8_t*>(f.data) + row_bytes * r, f.dtype, f.cols, out);
}

LinearRunner::LinearRunner(ThreadPool& pool, int64_t max_rows, int64_t max_width)
    : pool_(pool),
      k_(kernels::float_kernels()),
      qk_(quant::quant_kernels()),
      max_rows_(max_rows),
      max_width_(max_width) {}

void LinearRunner::quantize(const float* x, int64_t n, int64_t width) {
  if (act_rows_.q == nullptr) act_.resize(max_rows_, max_width_);
  act_rows_ = act_.rows(width);
  // Per-token work is small next to the matmuls; split tokens when there are many.
  pool_.split(n, 1, [&](int64_t begin, int64_t end, int) {
    quant::Int8Rows part = act_rows_;
    part.q += begin * width;
    part.scale += begin;
    part.zero += begin;
    part.group_term += begin * (width / 32);
    qk_.quantize_rows(x + begin * width, end - begin, part);
  });
}

void LinearRunner::run(const float* x, int64_t n, int64_t width, std::initializer_list<LinearProduct> products) {
  MOBILELLM_DASSERT(n >= 1 && n <= max_rows_ && width <= max_width_);
  std::array<quant::Q4Product, 3> int4;
  size_t n_int4 = 0;
  for (const LinearProduct& p : products) {
    MOBILELLM_DASSERT(p.w->cols() == width);
    if (p.w->int4()) {
      MOBILELLM_DASSERT(n_int4 < int4.size());
      int4[n_int4++] = {&p.w->q, p.out};
    } else {
      kernels::matmul(pool_, k_, x, n, p.w->f, p.out);
    }
  }
  if (n_int4 == 0) return;
  quantize(x, n, width);
  quant::q4_matmul(pool_, qk_, act_rows_, n, std::span<const quant::Q4Product>(int4.data(), n_int4));
}

}  // namespace mobilellm::model
