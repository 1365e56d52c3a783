#pragma once
// The forward pass of spec §3, one decoder layer at a time, in fp32 with the
// weights in their stored type. Prompts run as matrix–matrix work in batches
// of up to `max_batch` tokens; generation feeds one token at a time.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>

#include "kernels/float_kernels.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "quant/int8_kv_layer.h"
#include "quant/quant_kernels.h"
#include "runtime/aligned_buffer.h"
#include "runtime/thread_pool.h"

namespace mobilellm::model {

enum class LogitsFor { kNone, kLast, kAll };

// Sees named intermediates ("attn_out", "layer_out", ...) of every layer, so a
// test can compare layer by layer with the reference. rows × cols, row-major.
using Observer = std::function<void(int64_t layer, const char* name, const float* data, int64_t rows, int64_t cols)>;

class Forward {
 public:
  // Prompt tokens per pass of the weights (llama.cpp's n_ubatch).
  static constexpr int64_t kDefaultBatch = 256;

  Forward(const Model& model, ThreadPool& pool, int64_t max_batch = kDefaultBatch);

  // Runs `tokens` at positions cache.size()… and appends them to the cache.
  // logits: LogitsFor::kLast → [vocab] for the last token; kAll → [n][vocab].
  // Throws Error for an id outside the vocabulary or when the context is full.
  void run(KvCache& cache, std::span<const int32_t> tokens, LogitsFor which, float* logits);

  void set_observer(Observer observer) { observer_ = std::move(observer); }
  int64_t vocab_size() const { return c_.vocab_size; }

 private:
  void run_batch(KvCache& cache, const int32_t* tokens, int64_t n, LogitsFor which, float* logits);
  void layer(int64_t l, KvCache& cache, int64_t p0, int64_t n);
  void attention(int64_t l, KvCache& cache, int64_t p0, int64_t n);
  // fn(t) for tokens t < n: split over the pool in prefill (a serial loop
  // there leaves the other threads idle), inline for a single token.
  void each_token(int64_t n, const std::function<void(int64_t t)>& fn);
  void logits(int64_t n, LogitsFor which, float* out);
  // The int4 path (forward_int4.cpp): activations quantized per token once per
  // input, int4 × int8 matmuls, attention over the int8 KV cache.
  void quantize(const float* x, int64_t n, int64_t width);
  // Products of one input x [n][width]: a matrix bound as int4 (`q` non-null
  // with blocks) runs on the input quantized once, any other with the float
  // kernels (float models, and the bf16 fallback the converter keeps for a
  // matrix whose columns int4 groups do not divide). The int4 ones share one
  // job for the pool.
  struct Product {
    const kernels::WeightMatrix* f;
    const quant::Q4Matrix* q;
    float* out;
  };
  void products(const float* x, int64_t n, int64_t width, std::initializer_list<Product> list);
  void attention_int8(int64_t l, KvCache& cache, int64_t p0, int64_t n);
  void observe(int64_t l, const char* name, const float* data, int64_t rows, int64_t cols) const {
    if (observer_) observer_(l, name, data, rows, cols);
  }

  const Model& model_;
  const ModelConfig& c_;
  ThreadPool& pool_;
  const kernels::FloatKernels& k_;
  const quant::QuantKernels& qk_;
  int64_t max_batch_;
  Observer observer_;
  // Activations for one batch, [max_batch][width].
  AlignedBuffer<float> x_, h_, q_, kk_, vv_, attn_, gate_, up_;
  // Ring layers in prefill: the window of old and new keys/values in position order.
  AlignedBuffer<float> window_k_, window_v_;
  // Per-thread attention scores.
  std::vector<AlignedBuffer<float>> scores_;
  std::vector<float> cos_, sin_;
  // int4 models: the quantized input of the matmuls that follow quantize().
  quant::Int8RowsBuffer act_;
  quant::Int8Rows act_rows_;
  // int8 ring layers in prefill: old window and new rows in position order.
  std::unique_ptr<quant::Int8KvLayer> window_int8_;
  // Online-softmax states of attention tasks.
  std::vector<AlignedBuffer<float>> softmax_;
};

}  // namespace mobilellm::model
