// The int4 path of the forward pass (q4g32 / q4cw / q4_1 model files): activations
// quantized per token (spec §4.3) once per matmul input, int4 × int8 matmuls
// with fp32 accumulation, and attention over the int8 KV cache (spec §4.4).
#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <vector>

#include "model/forward.h"

namespace mobilellm::model {
namespace {

// Decode over a long global context splits each head's positions into chunks
// of at least this many, so that all threads work; the chunks' softmax states
// are merged afterwards.
constexpr int64_t kMinSplitRows = 256;
// Prefill attention runs this many positions of a head as one task: their
// rows share a pass over the keys, each key block dequantized once for all
// (16: 80 rows at GQA 5; 2k prefill 172 tok/s against 8 positions' 171).
constexpr int64_t kPrefillBlockPositions = 16;

}  // namespace

void Forward::quantize(const float* x, int64_t n, int64_t width) {
  act_rows_ = act_.rows(width);
  // Per-token work is small next to the matmuls; split tokens when there are many.
  pool_.split(n, 1, [&](int64_t begin, int64_t end, int) {
    quant::Int8Rows part = act_rows_;
    part.q += begin * width;
    part.scale += begin;
    part.zero += begin;
    part.group_term += begin * (width / 32);
    qk_.quantize_rows(x + begin * width, end - begin, part);
  });
}

void Forward::products(const float* x, int64_t n, int64_t width, std::initializer_list<Product> list) {
  std::array<quant::Q4Product, 3> int4;
  size_t n_int4 = 0;
  for (const Product& p : list) {
    if (p.q && p.q->blocks) {
      assert(n_int4 < int4.size());
      int4[n_int4++] = {p.q, p.out};
    } else {
      kernels::matmul(pool_, k_, x, n, *p.f, p.out);
    }
  }
  if (n_int4 == 0) return;
  quantize(x, n, width);
  quant::q4_matmul(pool_, qk_, act_rows_, n, std::span<const quant::Q4Product>(int4.data(), n_int4));
}

void Forward::attention_int8(int64_t l, KvCache& cache, int64_t p0, int64_t n) {
  KvCache::Layer& store = cache.layer(l);
  quant::Int8KvLayer& kv = *store.int8;
  const int64_t kv_dim = c_.kv_dim(), hd = c_.head_dim, heads = c_.num_kv_heads;
  const int64_t group = c_.num_heads / heads;
  const AttentionKind kind = store.kind;
  auto first_visible = [&](int64_t p) { return first_visible_position(c_, kind, p); };

  // Quantize the new keys and values into the cache, and find the rows that
  // hold the keys visible to position p: rows [first_visible(p) − base, p − base]
  // of `rows`. As in the float path, ring layers in prefill go through a
  // position-ordered window, and single-token decode reads the ring directly.
  const quant::Int8KvLayer* rows = &kv;
  int64_t base = 0;
  bool ring_direct = false;
  if (kind == AttentionKind::kFull) {
    each_token(n, [&](int64_t t) { kv.write(p0 + t, kk_.data() + t * kv_dim, vv_.data() + t * kv_dim); });
  } else if (n == 1) {
    kv.write(p0 % store.slots, kk_.data(), vv_.data());
    ring_direct = true;
  } else {
    base = first_visible(p0);
    const int64_t old = p0 - base;
    if (!window_int8_ || window_int8_->capacity() < old + n)
      window_int8_ = std::make_unique<quant::Int8KvLayer>(
          std::max(c_.sliding_window, c_.attention_chunk_size) + max_batch_, heads, hd);
    for (int64_t p = base; p < p0; ++p) window_int8_->copy_row(p - base, kv, p % store.slots);
    each_token(n, [&](int64_t t) { window_int8_->write(old + t, kk_.data() + t * kv_dim, vv_.data() + t * kv_dim); });
    for (int64_t t = std::max<int64_t>(0, n - store.slots); t < n; ++t)
      kv.copy_row((p0 + t) % store.slots, *window_int8_, old + t);
    rows = window_int8_.get();
  }
  auto visible = [&](int64_t t, int64_t* first, int64_t* count) {
    const int64_t p = p0 + t;
    if (ring_direct) {
      *first = 0;
      *count = kind == AttentionKind::kSliding ? std::min(p + 1, store.slots) : p % c_.attention_chunk_size + 1;
    } else {
      *first = first_visible(p) - base;
      *count = p - base - *first + 1;
    }
  };

  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t state_floats = group * (2 + hd);
  auto state_at = [&](AlignedBuffer<float>& buf) {
    return quant::SoftmaxState{buf.data(), buf.data() + group, buf.data() + 2 * group};
  };

  if (n == 1) {
    int64_t first, count;
    visible(0, &first, &count);
    const int64_t splits =
        std::clamp<int64_t>((pool_.size() + heads - 1) / heads, 1, std::max<int64_t>(1, count / kMinSplitRows));
    const int64_t chunk = (count + splits - 1) / splits;
    if (softmax_.size() < static_cast<size_t>(heads * splits)) softmax_.resize(static_cast<size_t>(heads * splits));
    for (auto& s : softmax_)
      if (s.size() < static_cast<size_t>(state_floats)) s.resize(static_cast<size_t>(state_floats));
    pool_.run(heads * splits, [&](int64_t task, int) {
      const int64_t head = task / splits, begin = task % splits * chunk;
      const quant::SoftmaxState st = state_at(softmax_[static_cast<size_t>(task)]);
      quant::softmax_state_reset(st, group, hd);
      if (begin >= count) return;
      qk_.attention_int8(q_.data() + head * group * hd, group, rows->head(head, first + begin),
                         std::min(chunk, count - begin), hd, scale, st);
    });
    for (int64_t head = 0; head < heads; ++head) {
      const quant::SoftmaxState total = state_at(softmax_[static_cast<size_t>(head * splits)]);
      for (int64_t s = 1; s < splits; ++s)
        quant::softmax_state_merge(total, state_at(softmax_[static_cast<size_t>(head * splits + s)]), group, hd);
      quant::softmax_state_finish(total, group, hd, attn_.data() + head * group * hd);
    }
    return;
  }

  // Prefill: a task is a block of positions of one head; their query rows
  // share most of their keys and go through them together.
  const int64_t blocks = (n + kPrefillBlockPositions - 1) / kPrefillBlockPositions;
  const int64_t block_rows = kPrefillBlockPositions * group;
  if (softmax_.size() < static_cast<size_t>(pool_.size())) softmax_.resize(static_cast<size_t>(pool_.size()));
  for (auto& s : softmax_)
    if (s.size() < static_cast<size_t>(block_rows * (2 + hd))) s.resize(static_cast<size_t>(block_rows * (2 + hd)));
  // Row r = t·group + j (query head j of the group at position t): its key
  // range is the position's, the same for every KV head, so it is found once.
  std::vector<int64_t> first(static_cast<size_t>(n * group)), end(first.size());
  for (int64_t t = 0; t < n; ++t) {
    int64_t from, count;
    visible(t, &from, &count);
    std::fill_n(first.begin() + t * group, group, from);
    std::fill_n(end.begin() + t * group, group, from + count);
  }
  std::vector<const float*> q_rows(static_cast<size_t>(heads * n * group));  // [head][t][j]
  for (int64_t head = 0; head < heads; ++head)
    for (int64_t t = 0; t < n; ++t)
      for (int64_t j = 0; j < group; ++j)
        q_rows[static_cast<size_t>((head * n + t) * group + j)] = q_.data() + t * c_.q_dim() + (head * group + j) * hd;
  pool_.run(blocks * heads, [&](int64_t task, int thread) {
    const int64_t head = task % heads, t0 = task / heads * kPrefillBlockPositions;
    const int64_t positions = std::min(kPrefillBlockPositions, n - t0), rows_here = positions * group;
    const quant::RangedQueries queries{q_rows.data() + (head * n + t0) * group, first.data() + t0 * group,
                                       end.data() + t0 * group, rows_here};
    float* buf = softmax_[static_cast<size_t>(thread)].data();
    const quant::SoftmaxState st{buf, buf + rows_here, buf + 2 * rows_here};
    quant::softmax_state_reset(st, rows_here, hd);
    qk_.attention_int8_ranged(queries, rows->head(head, 0), hd, scale, st);
    for (int64_t i = 0; i < positions; ++i)
      quant::softmax_state_finish({st.max + i * group, st.sum + i * group, st.acc + i * group * hd}, group, hd,
                                  attn_.data() + (t0 + i) * c_.q_dim() + head * group * hd);
  });
}

}  // namespace mobilellm::model
