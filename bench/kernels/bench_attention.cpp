// Attention of one GQA group (5 query heads of 64 on one KV head) over a
// growing context, as in decode; FLOP/s counts q·k and p·v.
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/float_kernels.h"

namespace mobilellm::kernels {
namespace {

void BM_Attention(benchmark::State& state) {
  const int64_t n_keys = state.range(0), g = 5, head_dim = 64, kv_stride = 4 * head_dim;
  std::vector<float> q(static_cast<size_t>(g * head_dim), 0.1f), out(q.size());
  std::vector<float> k(static_cast<size_t>(n_keys * kv_stride)), v(k.size());
  for (size_t i = 0; i < k.size(); ++i) {
    k[i] = 0.01f * static_cast<float>(i % 97);
    v[i] = 0.01f * static_cast<float>(i % 89);
  }
  std::vector<float> scratch(static_cast<size_t>(g * n_keys));
  const FloatKernels& kernels = float_kernels();
  for (auto _ : state) {
    kernels.attention(q.data(), g, k.data(), v.data(), kv_stride, n_keys, head_dim, 0.125f, out.data(), scratch.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(4.0 * g * n_keys * head_dim, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(isa_name(kernels.isa));
}

BENCHMARK(BM_Attention)->ArgName("keys")->Arg(64)->Arg(512)->Arg(4096);

}  // namespace
}  // namespace mobilellm::kernels
