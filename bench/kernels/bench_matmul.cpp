// GEMV (decode, m = 1) and GEMM (prefill) at MobileLLM-Pro's projection shapes,
// bf16 weights, through the threaded matmul with the dispatched table
// (MOBILELLM_ISA picks another). Reports weight bytes/s (decimal) and FLOP/s.
//
// Decode weights are read from DRAM in the model (2 GB of them go by between
// two uses of a matrix), so the GEMV cycles through enough copies of each
// matrix to overflow the last-level cache; otherwise small matrices would be
// served from L3 and overstate the bandwidth.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "kernels/float_kernels.h"
#include "runtime/aligned_buffer.h"
#include "runtime/thread_pool.h"

namespace mobilellm::kernels {
namespace {

constexpr size_t kColdBytes = size_t{256} << 20;  // well past any L3 this will run on

// `copies` random bf16 matrices of n×k, back to back.
AlignedBuffer<uint16_t> random_bf16(int64_t n, int64_t k, int64_t copies) {
  AlignedBuffer<uint16_t> w(static_cast<size_t>(n * k * copies));
  uint32_t state = 12345;
  for (size_t i = 0; i < w.size(); ++i) {
    state = state * 1664525u + 1013904223u;
    // bf16 of a float in ±[0.5, 1): sign, exponent 126, 7 random mantissa bits.
    w[i] = static_cast<uint16_t>((state >> 31) << 15 | 126u << 7 | (state >> 16 & 0x7f));
  }
  return w;
}

void BM_Gemv(benchmark::State& state) {
  const int64_t n = state.range(0), k = state.range(1);
  const int threads = static_cast<int>(state.range(2));
  const size_t bytes = static_cast<size_t>(n * k) * 2;
  const int64_t copies = static_cast<int64_t>((kColdBytes + bytes - 1) / bytes);
  AlignedBuffer<uint16_t> w = random_bf16(n, k, copies);
  AlignedBuffer<float> x(static_cast<size_t>(k)), y(static_cast<size_t>(n));
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.001f * static_cast<float>(i % 101);
  ThreadPool pool(threads);
  const FloatKernels& kernels = float_kernels();
  int64_t copy = 0;
  for (auto _ : state) {
    WeightMatrix wm{w.data() + copy * n * k, DType::kBF16, n, k};
    matmul(pool, kernels, x.data(), 1, wm, y.data());
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % copies;
  }
  // Decimal bytes per second, like membw (SetBytesProcessed would print GiB/s).
  state.counters["B/s"] = benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * n * k, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(isa_name(kernels.isa));
}

void BM_Gemm(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  AlignedBuffer<uint16_t> w = random_bf16(n, k, 1);
  AlignedBuffer<float> x(static_cast<size_t>(m * k)), y(static_cast<size_t>(m * n));
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.001f * static_cast<float>(i % 101);
  ThreadPool pool(threads);
  const FloatKernels& kernels = float_kernels();
  WeightMatrix wm{w.data(), DType::kBF16, n, k};
  for (auto _ : state) {
    matmul(pool, kernels, x.data(), m, wm, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(isa_name(kernels.isa));
}

// (n, k): q/o, k/v, gate/up, down, and the tied output embedding.
const std::vector<std::pair<int64_t, int64_t>> kModelShapes = {
    {1280, 1280}, {256, 1280}, {6144, 1280}, {1280, 6144}, {202048, 1280}};

void gemv_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "k", "threads"});
  for (auto [n, k] : kModelShapes)
    for (int threads : {1, 2}) b->Args({n, k, threads});
}

void gemm_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "n", "k", "threads"});
  for (auto [n, k] : kModelShapes) {
    if (n == 202048) continue;  // prefill computes logits for the last position only
    for (int64_t m : {16, 64, 512})
      for (int threads : {1, 2}) b->Args({m, n, k, threads});
  }
}

BENCHMARK(BM_Gemv)->Apply(gemv_args)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Gemm)->Apply(gemm_args)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mobilellm::kernels
