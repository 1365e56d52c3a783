#pragma once
// Keys and values of past positions, one store per layer, shaped by the
// layer's attention kind:
//   full     every position: rows for the whole context, reserved as address
//            space (runtime/reserved_memory.h), so it grows without copies and
//            takes memory only as positions are written;
//   sliding  a ring of `sliding_window` slots (slot = position % window), so
//            its memory does not grow with the context;
//   chunked  a ring of `attention_chunk_size` slots; a block starts at slot 0.
// Keys are stored after RoPE and qk-norm, in the model file's KV-cache type
// (docs/FORMAT.md "kv_cache"): fp32, or int8 with a scale and zero point per
// position per KV head (spec §4.4). Attention sees either through KvRows.
#include <cstdint>
#include <memory>
#include <vector>

#include "model/config.h"
#include "quant/int8_kv_layer.h"
#include "runtime/aligned_buffer.h"
#include "runtime/reserved_memory.h"
#include "runtime/thread_pool.h"

namespace mobilellm::model {

// Scratch of attention over KvRows, kept between calls.
struct AttentionScratch {
  std::vector<AlignedBuffer<float>> per_thread;
  std::vector<AlignedBuffer<float>> per_task;
};

// Queries of n positions, each attending to its own range of rows.
struct AttentionQueries {
  const float* q;  // [n][kv_heads · group][head_dim]
  float* out;      // same shape
  int64_t n, kv_heads, group, head_dim;
  const int64_t* first;  // [n]: position t sees rows [first[t], first[t] + count[t])
  const int64_t* count;
  float scale;
};

// `capacity` rows of keys and values, a row being one position (or ring
// slot) of every KV head, in one storage type.
class KvRows {
 public:
  virtual ~KvRows() = default;
  int64_t capacity() const { return capacity_; }
  // Bytes one row takes.
  virtual int64_t row_bytes() const = 0;
  // k and v: [kv_heads][head_dim].
  virtual void write(int64_t row, const float* k, const float* v) = 0;
  // Row `from` of `src` (rows of the same type and shape) into row `to`.
  virtual void copy_row(int64_t to, const KvRows& src, int64_t from) = 0;
  // Empty rows of the same type and shape.
  virtual std::unique_ptr<KvRows> make(int64_t capacity) const = 0;
  // Rows from `row` on are no longer needed: their memory goes back to the
  // system, and they read as zero until written again.
  virtual void release_from(int64_t row) = 0;
  // Attention of the queries over these rows, split over the pool.
  virtual void attend(ThreadPool& pool, const AttentionQueries& queries, AttentionScratch& scratch) const = 0;

 protected:
  explicit KvRows(int64_t capacity) : capacity_(capacity) {}

 private:
  int64_t capacity_;
};

// fp32 rows: [capacity][kv_dim] keys, the same for values.
class FloatKvRows final : public KvRows {
 public:
  FloatKvRows(int64_t capacity, int64_t kv_heads, int64_t head_dim);
  int64_t row_bytes() const override { return 2 * kv_dim_ * static_cast<int64_t>(sizeof(float)); }
  void write(int64_t row, const float* k, const float* v) override;
  void copy_row(int64_t to, const KvRows& src, int64_t from) override;
  std::unique_ptr<KvRows> make(int64_t capacity) const override;
  void release_from(int64_t row) override;
  void attend(ThreadPool& pool, const AttentionQueries& queries, AttentionScratch& scratch) const override;

 private:
  int64_t kv_heads_, head_dim_, kv_dim_;
  ReservedMemory memory_;
  float *k_ = nullptr, *v_ = nullptr;
};

// int8 rows (quant/int8_kv_layer.h).
class Int8KvRows final : public KvRows {
 public:
  Int8KvRows(int64_t capacity, int64_t kv_heads, int64_t head_dim);
  int64_t row_bytes() const override { return quant::Int8KvLayer::row_bytes(kv_heads_, head_dim_); }
  void write(int64_t row, const float* k, const float* v) override { layer_.write(row, k, v); }
  void copy_row(int64_t to, const KvRows& src, int64_t from) override;
  std::unique_ptr<KvRows> make(int64_t capacity) const override;
  void release_from(int64_t row) override { layer_.release_from(row); }
  void attend(ThreadPool& pool, const AttentionQueries& queries, AttentionScratch& scratch) const override;

 private:
  int64_t kv_heads_, head_dim_;
  quant::Int8KvLayer layer_;
};

class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t max_context);

  int64_t max_context() const { return max_context_; }
  int64_t size() const { return n_past_; }  // positions already in the cache
  // Forget every position; the memory they took goes back to the system.
  void clear();
  // Forget positions from `n` on (keeping a shared prompt prefix), and give
  // back the memory of the rows that no longer hold one. Ring layers keep
  // only their last window, so a cut more than a window back is not possible
  // there (unless keep_for_rollback() saved it): returns false and changes
  // nothing.
  bool truncate(int64_t n);
  void advance(int64_t n) { n_past_ += n; }

  // Speculative decoding: saves the ring rows that the next `n` positions
  // will overwrite, so that truncate() can return to any length from the
  // current one on, until the next call. n ≤ rollback_limit().
  void keep_for_rollback(int64_t n);
  // The most positions keep_for_rollback() can cover: the smallest ring, or
  // the context when there is none.
  int64_t rollback_limit() const;

  struct Layer {
    AttentionKind kind;
    int64_t slots = 0;  // rows: the context for full layers, the ring size for the others
    std::unique_ptr<KvRows> rows;
    std::unique_ptr<KvRows> saved;  // ring layers: [t] is what position rollback_to_ + t overwrote
  };
  Layer& layer(int64_t l) { return layers_[static_cast<size_t>(l)]; }
  // Bytes the rows holding positions take (int8: scales and zero points
  // included): the memory the cache holds, to the page.
  int64_t bytes() const;

 private:
  // Rows of `layer` that hold one of `positions` positions.
  static int64_t rows_held(const Layer& layer, int64_t positions);
  // Gives back the rows beyond what n_past_ positions hold.
  void release_unheld();

  int64_t max_context_;
  int64_t n_past_ = 0;
  int64_t chunk_ = 0;
  std::vector<Layer> layers_;
  // keep_for_rollback(): the saved rows restore lengths [rollback_to_, rollback_end_].
  int64_t rollback_to_ = 0, rollback_end_ = 0;
};

}  // namespace mobilellm::model
