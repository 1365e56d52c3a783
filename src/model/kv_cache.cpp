#include "model/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "runtime/debug_assert.h"

namespace mobilellm::model {

FloatKvRows::FloatKvRows(int64_t capacity, int64_t kv_heads, int64_t head_dim)
    : KvRows(capacity),
      kv_heads_(kv_heads),
      head_dim_(head_dim),
      kv_dim_(kv_heads * head_dim),
      memory_(static_cast<size_t>(2 * capacity * kv_dim_) * sizeof(float)) {
  k_ = reinterpret_cast<float*>(memory_.data());
  v_ = k_ ? k_ + capacity * kv_dim_ : nullptr;
}

void FloatKvRows::write(int64_t row, const float* k, const float* v) {
  MOBILELLM_DASSERT(row >= 0 && row < capacity());
  std::memcpy(k_ + row * kv_dim_, k, static_cast<size_t>(kv_dim_) * sizeof(float));
  std::memcpy(v_ + row * kv_dim_, v, static_cast<size_t>(kv_dim_) * sizeof(float));
}

void FloatKvRows::copy_row(int64_t to, const KvRows& src, int64_t from) {
  const auto& s = static_cast<const FloatKvRows&>(src);
  MOBILELLM_DASSERT(s.kv_dim_ == kv_dim_ && from >= 0 && from < s.capacity());
  write(to, s.k_ + from * kv_dim_, s.v_ + from * kv_dim_);
}

std::unique_ptr<KvRows> FloatKvRows::make(int64_t capacity) const {
  return std::make_unique<FloatKvRows>(capacity, kv_heads_, head_dim_);
}

void FloatKvRows::release_from(int64_t row) {
  const size_t row_floats = static_cast<size_t>(kv_dim_) * sizeof(float);
  const size_t half = static_cast<size_t>(capacity()) * row_floats, tail = half - static_cast<size_t>(row) * row_floats;
  memory_.release(half - tail, tail);      // keys
  memory_.release(2 * half - tail, tail);  // values
}

Int8KvRows::Int8KvRows(int64_t capacity, int64_t kv_heads, int64_t head_dim)
    : KvRows(capacity), kv_heads_(kv_heads), head_dim_(head_dim), layer_(capacity, kv_heads, head_dim) {}

void Int8KvRows::copy_row(int64_t to, const KvRows& src, int64_t from) {
  const auto& s = static_cast<const Int8KvRows&>(src);
  MOBILELLM_DASSERT(to >= 0 && to < capacity() && from >= 0 && from < s.capacity());
  layer_.copy_row(to, s.layer_, from);
}

std::unique_ptr<KvRows> Int8KvRows::make(int64_t capacity) const {
  return std::make_unique<Int8KvRows>(capacity, kv_heads_, head_dim_);
}

KvCache::KvCache(const ModelConfig& c, int64_t max_context)
    : max_context_(max_context), chunk_(c.attention_chunk_size) {
  for (const auto& spec : c.layers) {
    Layer layer;
    layer.kind = spec.attention;
    // Full layers reserve the whole context up front: nothing is ever copied.
    layer.slots = max_context;
    if (spec.attention == AttentionKind::kSliding) layer.slots = std::min(c.sliding_window, max_context);
    if (spec.attention == AttentionKind::kChunked) layer.slots = std::min(c.attention_chunk_size, max_context);
    if (c.int8_kv_cache)
      layer.rows = std::make_unique<Int8KvRows>(layer.slots, c.num_kv_heads, c.head_dim);
    else
      layer.rows = std::make_unique<FloatKvRows>(layer.slots, c.num_kv_heads, c.head_dim);
    layers_.push_back(std::move(layer));
  }
}

void KvCache::clear() {
  n_past_ = 0;
  rollback_to_ = rollback_end_ = 0;
  release_unheld();
}

bool KvCache::truncate(int64_t n) {
  if (n >= n_past_) return n == n_past_;
  if (n >= rollback_to_ && n_past_ <= rollback_end_) {
    // Each ring slot written from n on gets back the older position it held.
    for (auto& layer : layers_) {
      if (layer.kind == AttentionKind::kFull) continue;
      for (int64_t p = std::max(n, layer.slots); p < n_past_; ++p)
        layer.rows->copy_row(p % layer.slots, *layer.saved, p - rollback_to_);
    }
    // No release_unheld(): the rows of rejected guesses are written again by
    // the next pass, so handing their pages back would only fault them in.
    n_past_ = n;
    return true;
  }
  for (const auto& layer : layers_) {
    // A ring has overwritten positions before n_past - slots; the query at n
    // needs the window (n - W, n), which survives only for a rewind of one.
    if (layer.kind == AttentionKind::kSliding && n > 0 && n_past_ > layer.slots && n < n_past_ - 1) return false;
    // A chunk ring holds only the current block.
    if (layer.kind == AttentionKind::kChunked && n % chunk_ != 0 && n / chunk_ != (n_past_ - 1) / chunk_) return false;
  }
  n_past_ = n;
  rollback_to_ = rollback_end_ = 0;  // the saved rows are of positions that may be written again
  release_unheld();
  return true;
}

int64_t KvCache::rows_held(const Layer& layer, int64_t positions) {
  // A full layer's row is its position; a ring fills from slot 0 and then wraps.
  return std::min(positions, layer.slots);
}

void KvCache::release_unheld() {
  for (auto& layer : layers_) layer.rows->release_from(rows_held(layer, n_past_));
}

void KvCache::keep_for_rollback(int64_t n) {
  MOBILELLM_DASSERT(n >= 0 && n <= rollback_limit());
  rollback_to_ = n_past_;
  rollback_end_ = n_past_ + n;
  for (auto& layer : layers_) {
    if (layer.kind == AttentionKind::kFull || n == 0) continue;
    if (!layer.saved || layer.saved->capacity() < n) layer.saved = layer.rows->make(n);
    // Position p goes into the slot of position p − slots (none before a full ring).
    for (int64_t p = std::max(n_past_, layer.slots); p < rollback_end_; ++p)
      layer.saved->copy_row(p - rollback_to_, *layer.rows, p % layer.slots);
  }
}

int64_t KvCache::rollback_limit() const {
  int64_t limit = max_context_;
  for (const auto& layer : layers_)
    if (layer.kind != AttentionKind::kFull) limit = std::min(limit, layer.slots);
  return limit;
}

int64_t KvCache::bytes() const {
  int64_t total = 0;
  for (const auto& layer : layers_) total += rows_held(layer, n_past_) * layer.rows->row_bytes();
  return total;
}

}  // namespace mobilellm::model
