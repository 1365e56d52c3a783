#pragma once
// Float kernels used by the exact (fp32-accumulating) forward pass.
// One table per instruction set; the scalar table is the reference twin that
// the tests compare every other table against. Kernels know nothing of the model.
#include <cstdint>
#include <optional>
#include <vector>

#include "runtime/dtype.h"
#include "runtime/thread_pool.h"

namespace mobilellm::kernels {

// kAmx: AVX-512 plus AMX-INT8 tiles; kI8mm: NEON with the dot-product and
// int8 matrix-multiply extensions. Only the quantized family has tables of
// their own; the float family runs AVX-512's and NEON's there.
enum class Isa : uint8_t { kScalar, kAvx2, kAvx512, kAmx, kNeon, kI8mm };
constexpr Isa kAllIsas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kAmx, Isa::kNeon, Isa::kI8mm};
const char* isa_name(Isa isa);
// The ISA that MOBILELLM_ISA forces: nullopt when unset or empty; an Error
// when it names none.
std::optional<Isa> forced_isa();

// A row-major weight matrix [rows][cols] in its stored element type.
// For a linear layer rows = output features, cols = input features (y = x·Wᵀ).
struct WeightMatrix {
  const void* data = nullptr;
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
};

struct FloatKernels {
  Isa isa;
  // y[i*ldy + n] = Σ_k x[i*cols + k] · W[n][k]  for i < m, n ∈ [n_begin, n_end).
  // Single-threaded; `matmul` below splits the work over a pool.
  void (*matmul_range)(const float* x, int64_t m, const WeightMatrix& w, int64_t n_begin, int64_t n_end, float* y,
                       int64_t ldy);
  // out = x / sqrt(mean(x²) + eps) · weight  (weight == nullptr: no weight). out may alias x.
  void (*rmsnorm)(const float* x, const float* weight, int64_t n, float eps, float* out);
  // Interleaved RoPE on n_heads heads of head_dim: pairs (2i, 2i+1) rotate by angle i,
  // cos/sin hold head_dim/2 values.
  void (*rope_interleaved)(float* x, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin);
  // out = silu(gate) ⊙ up, silu(g) = g / (1 + e^-g).
  void (*silu_mul)(const float* gate, const float* up, int64_t n, float* out);
  // y += x
  void (*add)(float* y, const float* x, int64_t n);
  // dst[i] = float(src[i]) for a run of n stored elements.
  void (*to_float)(const void* src, DType dtype, int64_t n, float* dst);
  // Attention of g query rows (a GQA group sharing one KV head) over n_keys keys:
  //   out[j] = Σ_t softmax_t(q[j]·K[t] · scale) · V[t]
  // q: [g][head_dim] contiguous; K[t] = k + t*kv_stride, V[t] = v + t*kv_stride;
  // out: [g][head_dim]. scratch holds at least g*n_keys floats. n_keys ≥ 1.
  void (*attention)(const float* q, int64_t g, const float* k, const float* v, int64_t kv_stride, int64_t n_keys,
                    int64_t head_dim, float scale, float* out, float* scratch);
};

// The best table this CPU runs (MOBILELLM_ISA=scalar|avx2|avx512|amx|neon|i8mm overrides, for tests and triage).
const FloatKernels& float_kernels();
// The table for one ISA, or nullptr when it was not compiled in or this CPU cannot run it.
const FloatKernels* float_kernels_for(Isa isa);
// Every ISA that float_kernels_for() returns a table for, scalar first.
std::vector<Isa> runnable_isas();

// y[m][w.rows] = x[m][w.cols] · Wᵀ over all threads of the pool.
void matmul(ThreadPool& pool, const FloatKernels& kernels, const float* x, int64_t m, const WeightMatrix& w, float* y);

}  // namespace mobilellm::kernels
