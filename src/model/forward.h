#pragma once
// The forward pass of spec §3, one decoder layer at a time, in fp32 with the
// weights in their stored type. Prompts run as matrix–matrix work in batches
// of up to `max_batch` tokens; generation feeds one token at a time. A step
// can also carry several sequences, each on its own KV cache (continuous
// batching): their rows share every matrix product, attention runs per
// sequence, and every row's result is the same as if it ran alone.
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

// One sequence's part of a batched step: `tokens` at positions cache->size()…
// logits: LogitsFor::kLast → [vocab] for the last token; kAll → [n][vocab].
struct SequenceStep {
  KvCache* cache;
  std::span<const int32_t> tokens;
  LogitsFor which = LogitsFor::kNone;
  float* logits = nullptr;
};

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
  // Runs every sequence's tokens in one pass of the weights and appends them
  // to its cache. At most max_batch() tokens in all, each cache once. Throws
  // Error (before running anything) for an id outside the vocabulary, a full
  // context or too many tokens.
  void step(std::span<const SequenceStep> sequences);
  // Throws Error for an id outside the vocabulary or tokens past the context.
  void check(const KvCache& cache, std::span<const int32_t> tokens) const;
  int64_t max_batch() const { return max_batch_; }

  void set_observer(Observer observer) { observer_ = std::move(observer); }
  int64_t vocab_size() const { return c_.vocab_size; }

 private:
  // A sequence's rows in the step's activations.
  struct Rows {
    KvCache* cache;
    int64_t p0, row0, n;
  };
  void layer(int64_t l, int64_t n);
  // attention.cpp: one sequence's attention over its layer's KV rows,
  // whatever their type.
  void attention(int64_t l, const Rows& seq);
  // fn(t) for tokens t < n: split over the pool in prefill (a serial loop
  // there leaves the other threads idle), inline for a single token.
  void each_token(int64_t n, const std::function<void(int64_t t)>& fn);
  void logits(std::span<const SequenceStep> sequences);
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
  // The step's sequences, and each row's position.
  std::vector<Rows> rows_;
  std::vector<int64_t> positions_;
  // Logits of a step of several sequences, [rows][vocab], before they are
  // handed out (grown to the largest step that asked for them).
  AlignedBuffer<float> logits_;
  // Per position of a sequence: the first row it sees and how many.
  std::vector<int64_t> visible_first_, visible_count_;
  AttentionScratch attention_scratch_;
};

}  // namespace mobilellm::model
