#include "model/kv_cache.h"

#include <algorithm>
#include <cstring>

namespace mobilellm::model {
namespace {
// Full layers grow by this many positions at a time.
constexpr int64_t kGrowth = 1024;
}  // namespace

KvCache::KvCache(const ModelConfig& c, int64_t max_context)
    : kv_dim_(c.kv_dim()),
      heads_(c.num_kv_heads),
      head_dim_(c.head_dim),
      int8_(c.int8_kv_cache),
      max_context_(max_context),
      chunk_(c.attention_chunk_size) {
  for (const auto& spec : c.layers) {
    Layer layer;
    layer.kind = spec.attention;
    int64_t slots = 0;
    if (spec.attention == AttentionKind::kSliding) slots = std::min(c.sliding_window, max_context);
    if (spec.attention == AttentionKind::kChunked) slots = std::min(c.attention_chunk_size, max_context);
    if (int8_) {
      // Full layers reserve the whole context up front: nothing is ever copied.
      if (spec.attention == AttentionKind::kFull) slots = max_context;
      layer.int8 = std::make_unique<quant::Int8KvLayer>(slots, heads_, head_dim_);
    } else {
      layer.k.resize(static_cast<size_t>(slots * kv_dim_));
      layer.v.resize(static_cast<size_t>(slots * kv_dim_));
    }
    layer.slots = slots;
    layers_.push_back(std::move(layer));
  }
}

void KvCache::reserve(int64_t end) {
  for (auto& layer : layers_) {
    if (layer.kind != AttentionKind::kFull || layer.slots >= end) continue;
    int64_t slots = std::min(max_context_, (end + kGrowth - 1) / kGrowth * kGrowth);
    for (AlignedBuffer<float>* buf : {&layer.k, &layer.v}) {
      AlignedBuffer<float> grown(static_cast<size_t>(slots * kv_dim_));
      if (n_past_ > 0) std::memcpy(grown.data(), buf->data(), static_cast<size_t>(n_past_ * kv_dim_) * sizeof(float));
      *buf = std::move(grown);
    }
    layer.slots = slots;
  }
}

bool KvCache::truncate(int64_t n) {
  if (n >= n_past_) return n == n_past_;
  for (const auto& layer : layers_) {
    // A ring has overwritten positions before n_past - slots; the query at n
    // needs the window (n - W, n), which survives only for a rewind of one.
    if (layer.kind == AttentionKind::kSliding && n > 0 && n_past_ > layer.slots && n < n_past_ - 1) return false;
    // A chunk ring holds only the current block.
    if (layer.kind == AttentionKind::kChunked && n % chunk_ != 0 && n / chunk_ != (n_past_ - 1) / chunk_) return false;
  }
  n_past_ = n;
  return true;
}

int64_t KvCache::bytes() const {
  int64_t total = 0;
  for (const auto& layer : layers_) {
    if (!int8_) {
      total += 2 * layer.slots * kv_dim_ * static_cast<int64_t>(sizeof(float));
      continue;
    }
    const int64_t rows = layer.kind == AttentionKind::kFull ? n_past_ : layer.slots;
    total += rows * quant::Int8KvLayer::row_bytes(heads_, head_dim_);
  }
  return total;
}

}  // namespace mobilellm::model
