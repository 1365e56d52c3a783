#pragma once
// Keys and values of past positions, one store per layer, shaped by the
// layer's attention kind:
//   full     every position, grown in chunks up to the context limit;
//   sliding  a ring of `sliding_window` slots (slot = position % window), so
//            its memory does not grow with the context;
//   chunked  a ring of `attention_chunk_size` slots; a block starts at slot 0.
// Keys are stored after RoPE and qk-norm. Float storage.
#include <cstdint>
#include <vector>

#include "model/config.h"
#include "runtime/aligned_buffer.h"

namespace mobilellm::model {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t max_context);

  int64_t max_context() const { return max_context_; }
  int64_t size() const { return n_past_; }  // positions already in the cache
  void clear() { n_past_ = 0; }
  // Forget positions from `n` on (keeping a shared prompt prefix). Ring layers
  // keep only their last window, so a cut more than a window back is not
  // possible there: returns false and changes nothing.
  bool truncate(int64_t n);
  void advance(int64_t n) { n_past_ += n; }

  struct Layer {
    AttentionKind kind;
    int64_t slots = 0;  // allocated positions (ring size for ring layers)
    AlignedBuffer<float> k, v;  // [slots][kv_dim]
  };
  Layer& layer(int64_t l) { return layers_[static_cast<size_t>(l)]; }
  // Makes room for positions up to `end` (exclusive) in every full layer.
  void reserve(int64_t end);
  int64_t kv_dim() const { return kv_dim_; }
  // Bytes held by keys and values now.
  int64_t bytes() const;

 private:
  int64_t kv_dim_;
  int64_t max_context_;
  int64_t n_past_ = 0;
  int64_t chunk_ = 0;
  std::vector<Layer> layers_;
};

}  // namespace mobilellm::model
