#pragma once
// Keys and values of past positions, one store per layer, shaped by the
// layer's attention kind:
//   full     every position, grown in chunks up to the context limit;
//   sliding  a ring of `sliding_window` slots (slot = position % window), so
//            its memory does not grow with the context;
//   chunked  a ring of `attention_chunk_size` slots; a block starts at slot 0.
// Keys are stored after RoPE and qk-norm. Float storage, or int8 with a
// scale and zero point per position per KV head (spec §4.4) when the config
// asks for it (q4g32 models); an int8 layer reserves its whole capacity as
// address space and touches memory only as positions are written.
#include <cstdint>
#include <memory>
#include <vector>

#include "model/config.h"
#include "quant/int8_kv_layer.h"
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
    AlignedBuffer<float> k, v;  // [slots][kv_dim]; empty in int8 mode
    std::unique_ptr<quant::Int8KvLayer> int8;  // int8 mode: `slots` rows
  };
  bool int8() const { return int8_; }
  Layer& layer(int64_t l) { return layers_[static_cast<size_t>(l)]; }
  // Makes room for positions up to `end` (exclusive) in every full layer.
  void reserve(int64_t end);
  int64_t kv_dim() const { return kv_dim_; }
  // Bytes held by keys and values now (int8: scales and zero points included).
  int64_t bytes() const;

 private:
  int64_t kv_dim_;
  int64_t heads_, head_dim_;
  bool int8_;
  int64_t max_context_;
  int64_t n_past_ = 0;
  int64_t chunk_ = 0;
  std::vector<Layer> layers_;
};

}  // namespace mobilellm::model
