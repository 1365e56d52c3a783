// int4 weights (q4g32, or q4_1: ggml's Q4_1 blocks) × int8 activations at
// MobileLLM-Pro's projection shapes, through q4_matmul with the dispatched
// table (MOBILELLM_ISA picks another).
//   GEMV (decode, m = 1): weight GB/s, to hold against bench/kernels' membw.
//   GEMM (prefill): int8 MAC/s.
// Decode weights come from DRAM in the model (600 MB go by between two uses
// of a matrix), so the GEMV cycles through enough copies of each matrix to
// overflow the last-level cache.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "quant/quant_kernels.h"
#include "runtime/aligned_buffer.h"
#include "runtime/thread_pool.h"

namespace mobilellm::quant {
namespace {

constexpr size_t kColdBytes = size_t{256} << 20;

// Random codes and bf16 amax (q4_1: fp16 d and m) values in place: the
// kernels' speed does not depend on the values, and packing 256 MiB is slow.
AlignedBuffer<uint8_t> random_packed(Q4Scheme scheme, int64_t n, int64_t k, int64_t copies, size_t* bytes) {
  *bytes = q4_packed_bytes(scheme, n, k);
  AlignedBuffer<uint8_t> w(*bytes * static_cast<size_t>(copies));
  uint32_t state = 12345;
  for (size_t i = 0; i < w.size(); ++i) {
    state = state * 1664525u + 1013904223u;
    w[i] = static_cast<uint8_t>(state >> 24);
  }
  // Keep the amax (d, m) fields and row terms finite: bf16 0x3c00 = fp16 0x2000 = 2⁻⁷, row term 0.
  const uint8_t high = scheme == Q4Scheme::kGroup32 ? 0x3c : 0x20;
  const int halves = scheme == Q4Scheme::kGroup32 ? 8 : 16;
  for (int64_t c = 0; c < copies; ++c) {
    Q4Matrix m = q4_view(scheme, n, k, w.data() + c * *bytes);
    for (int64_t t = 0; t < m.tiles(); ++t)
      for (int64_t g = 0; g < m.groups(); ++g) {
        uint8_t* s = const_cast<uint8_t*>(m.block(t, g)) + kQ4CodeBytes;
        for (int r = 0; r < halves; ++r) s[2 * r] = 0x00, s[2 * r + 1] = high;
      }
    std::fill_n(const_cast<float*>(m.row_term), m.tiles() * kQ4TileRows, 0.0f);
  }
  return w;
}

struct Inputs {
  Int8RowsBuffer buffer;
  Int8Rows rows;
  Inputs(int64_t m, int64_t k) : buffer(m, k), rows(buffer.rows()) {
    std::vector<float> x(static_cast<size_t>(m * k));
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * static_cast<float>(static_cast<int>(i % 201) - 100);
    quant_kernels().quantize_rows(x.data(), m, rows);
  }
};

// The scheme argument: 0 = q4g32, 2 = q4_1 (Q4Scheme's values).
Q4Scheme scheme_arg(int64_t v) { return static_cast<Q4Scheme>(v); }

void BM_Q4Gemv(benchmark::State& state) {
  const int64_t n = state.range(0), k = state.range(1);
  const int threads = static_cast<int>(state.range(2));
  const Q4Scheme scheme = scheme_arg(state.range(3));
  size_t bytes = 0;
  const int64_t copies = static_cast<int64_t>(kColdBytes / (static_cast<size_t>(n * k) / 2) + 1);
  AlignedBuffer<uint8_t> w = random_packed(scheme, n, k, copies, &bytes);
  Inputs in(1, k);
  AlignedBuffer<float> y(static_cast<size_t>(n));
  ThreadPool pool(threads);
  const QuantKernels& kernels = quant_kernels();
  int64_t copy = 0;
  for (auto _ : state) {
    q4_matmul(pool, kernels, in.rows, 1, q4_view(scheme, n, k, w.data() + copy * bytes), y.data());
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % copies;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetLabel(kernels::isa_name(kernels.isa));
}

void BM_Q4Gemm(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const Q4Scheme scheme = scheme_arg(state.range(4));
  size_t bytes = 0;
  AlignedBuffer<uint8_t> w = random_packed(scheme, n, k, 1, &bytes);
  Inputs in(m, k);
  AlignedBuffer<float> y(static_cast<size_t>(m * n));
  ThreadPool pool(threads);
  const QuantKernels& kernels = quant_kernels();
  const Q4Matrix wm = q4_view(scheme, n, k, w.data());
  for (auto _ : state) {
    q4_matmul(pool, kernels, in.rows, m, wm, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["MAC/s"] =
      benchmark::Counter(static_cast<double>(m * n * k), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(kernels::isa_name(kernels.isa));
}

void BM_QuantizeRows(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1);
  std::vector<float> x(static_cast<size_t>(m * k), 0.5f);
  Int8RowsBuffer buffer(m, k);
  Int8Rows rows = buffer.rows();
  const QuantKernels& kernels = quant_kernels();
  for (auto _ : state) {
    kernels.quantize_rows(x.data(), m, rows);
    benchmark::DoNotOptimize(rows.q);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * m * k * 4));
  state.SetLabel(kernels::isa_name(kernels.isa));
}

// Decode attention of one GQA group (5 query heads of 64) over an int8 KV
// head; FLOP/s counts q·k and p·v.
void BM_Int8Attention(benchmark::State& state) {
  const int64_t n = state.range(0), g = 5, hd = 64;
  std::vector<int8_t> k(static_cast<size_t>(n * hd)), v(k.size());  // one head's rows, contiguous as in the cache
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<int8_t>(i * 7), v[i] = static_cast<int8_t>(i * 13);
  std::vector<uint16_t> scales(static_cast<size_t>(n), 0x2000);  // fp16 2^-7
  std::vector<int8_t> zeros(static_cast<size_t>(n), 3);
  Int8KvHead head{k.data(), v.data(), scales.data(), scales.data(), zeros.data(), zeros.data(), hd};
  std::vector<float> q(static_cast<size_t>(g * hd), 0.1f), st(static_cast<size_t>(g * (hd + 2)));
  const QuantKernels& kernels = quant_kernels();
  for (auto _ : state) {
    const SoftmaxState s{st.data(), st.data() + g, st.data() + 2 * g};
    softmax_state_reset(s, g, hd);
    kernels.attention_int8(q.data(), g, head, n, hd, 0.125f, s);
    benchmark::DoNotOptimize(st.data());
  }
  state.counters["keys/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(kernels::isa_name(kernels.isa));
}

// Prefill attention of one block (8 positions × 5 query heads of 64, causal:
// position i sees keys [0, n − 8 + i]) over an int8 KV head; FLOP/s counts
// q·k and p·v of the visible keys.
void BM_Int8AttentionRanged(benchmark::State& state) {
  const int64_t n = state.range(0), positions = 8, g = 5, hd = 64, rows = positions * g;
  std::vector<int8_t> k(static_cast<size_t>(n * hd)), v(k.size());
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<int8_t>(i * 7), v[i] = static_cast<int8_t>(i * 13);
  std::vector<uint16_t> scales(static_cast<size_t>(n), 0x2000);
  std::vector<int8_t> zeros(static_cast<size_t>(n), 3);
  Int8KvHead head{k.data(), v.data(), scales.data(), scales.data(), zeros.data(), zeros.data(), hd};
  std::vector<float> q(static_cast<size_t>(rows * hd), 0.1f), st(static_cast<size_t>(rows * (hd + 2)));
  std::vector<const float*> q_rows(static_cast<size_t>(rows));
  std::vector<int64_t> first(q_rows.size(), 0), end(q_rows.size());
  double visible = 0;
  for (int64_t r = 0; r < rows; ++r) {
    q_rows[static_cast<size_t>(r)] = q.data() + r * hd;
    end[static_cast<size_t>(r)] = n - positions + r / g + 1;
    visible += static_cast<double>(end[static_cast<size_t>(r)]);
  }
  const QuantKernels& kernels = quant_kernels();
  for (auto _ : state) {
    const SoftmaxState s{st.data(), st.data() + rows, st.data() + 2 * rows};
    softmax_state_reset(s, rows, hd);
    kernels.attention_int8_ranged({q_rows.data(), first.data(), end.data(), rows}, head, hd, 0.125f, s);
    benchmark::DoNotOptimize(st.data());
  }
  state.counters["FLOP/s"] = benchmark::Counter(visible * hd * 4, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(kernels::isa_name(kernels.isa));
}

// n (output rows), k (input columns), threads, scheme: q/o, k/v, gate/up, down, tied output.
BENCHMARK(BM_Q4Gemv)
    ->ArgNames({"n", "k", "threads", "scheme"})
    ->ArgsProduct({{1280}, {1280}, {2}, {0, 2}})
    ->ArgsProduct({{256}, {1280}, {2}, {0, 2}})
    ->ArgsProduct({{6144}, {1280}, {2}, {0, 2}})
    ->ArgsProduct({{1280}, {6144}, {2}, {0, 2}})
    ->ArgsProduct({{202048}, {1280}, {2}, {0, 2}})
    ->ArgsProduct({{6144}, {1280}, {1}, {0, 2}})
    ->UseRealTime();
BENCHMARK(BM_Q4Gemm)
    ->ArgNames({"m", "n", "k", "threads", "scheme"})
    ->ArgsProduct({{256}, {6144}, {1280}, {2}, {0, 2}})
    ->ArgsProduct({{256}, {1280}, {6144}, {2}, {0, 2}})
    ->ArgsProduct({{256}, {1280}, {1280}, {2}, {0, 2}})
    ->ArgsProduct({{256}, {6144}, {1280}, {1}, {0, 2}})
    // Around the AMX table's crossover to the VNNI kernel (kAmxMinTokens).
    ->ArgsProduct({{4, 8, 12, 16, 32, 64}, {1280}, {1280}, {1}, {0}})
    ->UseRealTime();
BENCHMARK(BM_Int8Attention)->ArgName("keys")->Arg(512)->Arg(8192)->Arg(131072);
BENCHMARK(BM_Int8AttentionRanged)->ArgName("keys")->Arg(512)->Arg(2048);
BENCHMARK(BM_QuantizeRows)->ArgNames({"m", "k"})->Args({1, 1280})->Args({256, 6144});

}  // namespace
}  // namespace mobilellm::quant
