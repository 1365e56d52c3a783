// Attention of one layer (spec §3), for every KV-cache type: the new keys and
// values go into the layer's rows, the rows each query sees are found once
// (full, sliding-window or chunked layers), and the storage's own attend()
// runs the products: fp32 rows with the float kernels, int8 rows (spec §4.4)
// dequantized on the fly with an online softmax.
#include <algorithm>
#include <cmath>
#include <vector>

#include "model/forward.h"
#include "runtime/debug_assert.h"

namespace mobilellm::model {
namespace {

// Decode over a long global context splits each head's positions into chunks
// of at least this many, so that all threads work; the chunks' softmax states
// are merged afterwards.
constexpr int64_t kMinSplitRows = 256;
// Prefill attention runs this many positions of a head as one task: their
// rows share a pass over the keys, each key block dequantized once for all
// (16 positions: 80 query rows at GQA 5; BENCHMARKS.md "Tuned constants").
constexpr int64_t kPrefillBlockPositions = 16;

void ensure(std::vector<AlignedBuffer<float>>& buffers, size_t count, int64_t floats) {
  if (buffers.size() < count) buffers.resize(count);
  for (auto& b : buffers)
    if (b.size() < static_cast<size_t>(floats)) b.resize(static_cast<size_t>(floats));
}

}  // namespace

void Forward::attention(int64_t l, const Rows& seq) {
  KvCache::Layer& store = seq.cache->layer(l);
  const int64_t p0 = seq.p0, n = seq.n;
  KvRows& kv = *store.rows;
  const int64_t kv_dim = c_.kv_dim(), hd = c_.head_dim;
  const float* new_k = kk_.data() + seq.row0 * kv_dim;
  const float* new_v = vv_.data() + seq.row0 * kv_dim;
  const AttentionKind kind = store.kind;
  auto first_visible = [&](int64_t p) { return first_visible_position(c_, kind, p); };

  // Store the new keys and values, and find the rows that hold the keys
  // visible to position p: rows [first_visible(p) − base, p − base] of `rows`.
  // Full layers hold every position in order. Ring layers in prefill go
  // through a window of the old and new rows in position order; single-token
  // decode reads the ring directly, since the query sees every live slot and
  // the order of keys does not matter to attention.
  const KvRows* rows = &kv;
  int64_t base = 0;
  bool ring_direct = false;
  if (kind == AttentionKind::kFull) {
    MOBILELLM_DASSERT(p0 + n <= store.slots);
    each_token(n, [&](int64_t t) { kv.write(p0 + t, new_k + t * kv_dim, new_v + t * kv_dim); });
  } else if (n == 1) {
    kv.write(p0 % store.slots, new_k, new_v);
    ring_direct = true;
  } else {
    base = first_visible(p0);
    const int64_t old = p0 - base;
    if (!window_ || window_->capacity() < old + n)
      window_ = kv.make(std::max(c_.sliding_window, c_.attention_chunk_size) + max_batch_);
    MOBILELLM_DASSERT(old + n <= window_->capacity() && old <= store.slots);
    for (int64_t p = base; p < p0; ++p) window_->copy_row(p - base, kv, p % store.slots);
    each_token(n, [&](int64_t t) { window_->write(old + t, new_k + t * kv_dim, new_v + t * kv_dim); });
    for (int64_t t = std::max<int64_t>(0, n - store.slots); t < n; ++t)
      kv.copy_row((p0 + t) % store.slots, *window_, old + t);
    rows = window_.get();
  }
  visible_first_.resize(static_cast<size_t>(n));
  visible_count_.resize(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) {
    const int64_t p = p0 + t;
    int64_t& first = visible_first_[static_cast<size_t>(t)];
    int64_t& count = visible_count_[static_cast<size_t>(t)];
    if (ring_direct) {
      first = 0;
      count = kind == AttentionKind::kSliding ? std::min(p + 1, store.slots) : p % c_.attention_chunk_size + 1;
    } else {
      first = first_visible(p) - base;
      count = p - base - first + 1;
    }
    MOBILELLM_DASSERT(first >= 0 && count >= 1 && first + count <= rows->capacity());
  }
  const AttentionQueries queries{q_.data() + seq.row0 * c_.q_dim(),
                                 attn_.data() + seq.row0 * c_.q_dim(),
                                 n,
                                 c_.num_kv_heads,
                                 c_.num_heads / c_.num_kv_heads,
                                 hd,
                                 visible_first_.data(),
                                 visible_count_.data(),
                                 1.0f / std::sqrt(static_cast<float>(hd))};
  rows->attend(pool_, queries, attention_scratch_);
}

void FloatKvRows::attend(ThreadPool& pool, const AttentionQueries& a, AttentionScratch& scratch) const {
  const kernels::FloatKernels& k = kernels::float_kernels();
  const int64_t q_dim = a.kv_heads * a.group * a.head_dim;
  const int64_t max_keys = *std::max_element(a.count, a.count + a.n);
  ensure(scratch.per_thread, static_cast<size_t>(pool.size()), a.group * max_keys);
  pool.run(a.n * a.kv_heads, [&](int64_t task, int thread) {
    const int64_t t = task / a.kv_heads, head = task % a.kv_heads;
    const int64_t first = a.first[t];
    const float* q = a.q + t * q_dim + head * a.group * a.head_dim;
    float* out = a.out + t * q_dim + head * a.group * a.head_dim;
    k.attention(q, a.group, k_ + first * kv_dim_ + head * head_dim_, v_ + first * kv_dim_ + head * head_dim_, kv_dim_,
                a.count[t], a.head_dim, a.scale, out, scratch.per_thread[static_cast<size_t>(thread)].data());
  });
}

void Int8KvRows::attend(ThreadPool& pool, const AttentionQueries& a, AttentionScratch& scratch) const {
  const quant::QuantKernels& qk = quant::quant_kernels();
  const int64_t heads = a.kv_heads, group = a.group, hd = a.head_dim;
  const int64_t q_dim = heads * group * hd;
  const int64_t state_floats = group * (2 + hd);
  auto state_at = [&](AlignedBuffer<float>& buf) {
    return quant::SoftmaxState{buf.data(), buf.data() + group, buf.data() + 2 * group};
  };

  if (a.n == 1) {
    const int64_t first = a.first[0], count = a.count[0];
    const int64_t splits =
        std::clamp<int64_t>((pool.size() + heads - 1) / heads, 1, std::max<int64_t>(1, count / kMinSplitRows));
    const int64_t chunk = (count + splits - 1) / splits;
    ensure(scratch.per_task, static_cast<size_t>(heads * splits), state_floats);
    pool.run(heads * splits, [&](int64_t task, int) {
      const int64_t head = task / splits, begin = task % splits * chunk;
      const quant::SoftmaxState st = state_at(scratch.per_task[static_cast<size_t>(task)]);
      quant::softmax_state_reset(st, group, hd);
      if (begin >= count) return;
      qk.attention_int8(a.q + head * group * hd, group, layer_.head(head, first + begin),
                        std::min(chunk, count - begin), hd, a.scale, st);
    });
    for (int64_t head = 0; head < heads; ++head) {
      const quant::SoftmaxState total = state_at(scratch.per_task[static_cast<size_t>(head * splits)]);
      for (int64_t s = 1; s < splits; ++s)
        quant::softmax_state_merge(total, state_at(scratch.per_task[static_cast<size_t>(head * splits + s)]), group,
                                   hd);
      quant::softmax_state_finish(total, group, hd, a.out + head * group * hd);
    }
    return;
  }

  // Prefill: a task is a block of positions of one head; their query rows
  // share most of their keys and go through them together.
  const int64_t n = a.n;
  const int64_t blocks = (n + kPrefillBlockPositions - 1) / kPrefillBlockPositions;
  const int64_t block_rows = kPrefillBlockPositions * group;
  ensure(scratch.per_thread, static_cast<size_t>(pool.size()), block_rows * (2 + hd));
  // Row r = t·group + j (query head j of the group at position t): its key
  // range is the position's, the same for every KV head.
  std::vector<int64_t> first(static_cast<size_t>(n * group)), end(first.size());
  for (int64_t t = 0; t < n; ++t) {
    std::fill_n(first.begin() + t * group, group, a.first[t]);
    std::fill_n(end.begin() + t * group, group, a.first[t] + a.count[t]);
  }
  std::vector<const float*> q_rows(static_cast<size_t>(heads * n * group));  // [head][t][j]
  for (int64_t head = 0; head < heads; ++head)
    for (int64_t t = 0; t < n; ++t)
      for (int64_t j = 0; j < group; ++j)
        q_rows[static_cast<size_t>((head * n + t) * group + j)] = a.q + t * q_dim + (head * group + j) * hd;
  pool.run(blocks * heads, [&](int64_t task, int thread) {
    const int64_t head = task % heads, t0 = task / heads * kPrefillBlockPositions;
    const int64_t positions = std::min(kPrefillBlockPositions, n - t0), rows_here = positions * group;
    const quant::RangedQueries queries{q_rows.data() + (head * n + t0) * group, first.data() + t0 * group,
                                       end.data() + t0 * group, rows_here};
    float* buf = scratch.per_thread[static_cast<size_t>(thread)].data();
    const quant::SoftmaxState st{buf, buf + rows_here, buf + 2 * rows_here};
    quant::softmax_state_reset(st, rows_here, hd);
    qk.attention_int8_ranged(queries, layer_.head(head, 0), hd, a.scale, st);
    for (int64_t i = 0; i < positions; ++i)
      quant::softmax_state_finish({st.max + i * group, st.sum + i * group, st.acc + i * group * hd}, group, hd,
                                  a.out + (t0 + i) * q_dim + head * group * hd);
  });
}

}  // namespace mobilellm::model
