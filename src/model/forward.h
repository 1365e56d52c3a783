#pragma once
// The forward pass of spec §3, one decoder layer at a time, in fp32 with the
// weights in their stored type. Prompts run as matrix–matrix work in batches
// of up to `max_batch` tokens; generation feeds one token at a time.
#include <cstdint>
#include <functional>
#include <span>

#include "kernels/float_kernels.h"
#include "model/kv_cache.h"
#include "model/linear.h"
#include "model/model.h"
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
  // attention.cpp: the layer's attention over its KV rows, whatever their type.
  void attention(int64_t l, KvCache& cache, int64_t p0, int64_t n);
  // fn(t) for tokens t < n: split over the pool in prefill (a serial loop
  // there leaves the other threads idle), inline for a single token.
  void each_token(int64_t n, const std::function<void(int64_t t)>& fn);
  void logits(int64_t n, LogitsFor which, float* out);
  void observe(int64_t l, const char* name, const float* data, int64_t rows, int64_t cols) const {
    if (observer_) observer_(l, name, data, rows, cols);
  }

  const Model& model_;
  const ModelConfig& c_;
  ThreadPool& pool_;
  const kernels::FloatKernels& k_;
  int64_t max_batch_;
  LinearRunner linear_;
  Observer observer_;
  // Activations for one batch, [max_batch][width].
  AlignedBuffer<float> x_, h_, q_, kk_, vv_, attn_, gate_, up_;
  std::vector<float> cos_, sin_;
  // Ring layers in prefill: the window of old and new rows in position order.
  std::unique_ptr<KvRows> window_;
  // Per position of the batch: the first row it sees and how many.
  std::vector<int64_t> visible_first_, visible_count_;
  AttentionScratch attention_scratch_;
};

}  // namespace mobilellm::model
