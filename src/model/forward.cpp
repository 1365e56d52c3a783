#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/error.h"

namespace mobilellm::model {

Forward::Forward(const Model& model, ThreadPool& pool, int64_t max_batch)
    : model_(model),
      c_(model.config()),
      pool_(pool),
      k_(kernels::float_kernels()),
      qk_(quant::quant_kernels()),
      max_batch_(std::max<int64_t>(1, max_batch)) {
  const size_t b = static_cast<size_t>(max_batch_);
  x_.resize(b * c_.hidden_size);
  h_.resize(b * c_.hidden_size);
  q_.resize(b * c_.q_dim());
  kk_.resize(b * c_.kv_dim());
  vv_.resize(b * c_.kv_dim());
  attn_.resize(b * c_.q_dim());
  gate_.resize(b * c_.intermediate_size);
  up_.resize(b * c_.intermediate_size);
  scores_.resize(static_cast<size_t>(pool.size()));
  cos_.resize(static_cast<size_t>(c_.head_dim / 2));
  sin_.resize(static_cast<size_t>(c_.head_dim / 2));
  if (model.weights().quantized)
    act_.resize(max_batch_, std::max({c_.hidden_size, c_.q_dim(), c_.intermediate_size}));
}

void Forward::run(KvCache& cache, std::span<const int32_t> tokens, LogitsFor which, float* logits) {
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= c_.vocab_size)
      throw Error("token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                  " is outside the vocabulary (0.." + std::to_string(c_.vocab_size - 1) + ")");
  const int64_t total = static_cast<int64_t>(tokens.size());
  if (cache.size() + total > cache.max_context())
    throw Error("context limit reached: " + std::to_string(cache.size()) + " positions used + " +
                std::to_string(total) + " new > " + std::to_string(cache.max_context()));
  for (int64_t done = 0; done < total;) {
    const int64_t n = std::min(max_batch_, total - done);
    const bool last_batch = done + n == total;
    LogitsFor batch_which = which == LogitsFor::kAll ? LogitsFor::kAll : (last_batch ? which : LogitsFor::kNone);
    float* out = which == LogitsFor::kAll ? logits + done * c_.vocab_size : logits;
    run_batch(cache, tokens.data() + done, n, batch_which, out);
    done += n;
  }
}

void Forward::run_batch(KvCache& cache, const int32_t* tokens, int64_t n, LogitsFor which, float* logits_out) {
  const int64_t hidden = c_.hidden_size;
  const auto& emb = model_.weights().embedding;
  const size_t row_bytes = static_cast<size_t>(hidden) * dtype_size(emb.dtype);
  for (int64_t t = 0; t < n; ++t) {
    if (model_.weights().q_embedding.blocks)
      quant::q4_dequantize_row(model_.weights().q_embedding, tokens[t], x_.data() + t * hidden);
    else
      k_.to_float(static_cast<const uint8_t*>(emb.data) + row_bytes * tokens[t], emb.dtype, hidden, x_.data() + t * hidden);
  }
  const int64_t p0 = cache.size();
  cache.reserve(p0 + n);
  for (int64_t l = 0; l < c_.num_layers(); ++l) layer(l, cache, p0, n);
  cache.advance(n);
  if (which != LogitsFor::kNone) logits(n, which, logits_out);
}

void Forward::layer(int64_t l, KvCache& cache, int64_t p0, int64_t n) {
  const LayerWeights& w = model_.weights().layers[static_cast<size_t>(l)];
  const QuantizedLayerWeights* qw = model_.weights().quantized ? &model_.weights().q_layers[static_cast<size_t>(l)] : nullptr;
  const int64_t hidden = c_.hidden_size, eps_dim = hidden;
  const float eps = static_cast<float>(c_.rms_norm_eps);
  float* x = x_.data();
  float* h = h_.data();

  each_token(n, [&](int64_t t) { k_.rmsnorm(x + t * hidden, w.attn_norm.data(), eps_dim, eps, h + t * hidden); });
  products(h, n, hidden,
           {{&w.wq, qw ? &qw->wq : nullptr, q_.data()},
            {&w.wk, qw ? &qw->wk : nullptr, kk_.data()},
            {&w.wv, qw ? &qw->wv : nullptr, vv_.data()}});

  const LayerSpec& spec = c_.layers[static_cast<size_t>(l)];
  const int64_t hd = c_.head_dim;
  for (int64_t t = 0; t < n; ++t) {
    float* q = q_.data() + t * c_.q_dim();
    float* k = kk_.data() + t * c_.kv_dim();
    if (spec.use_rope) {
      model_.rope().angles(p0 + t, cos_.data(), sin_.data());
      k_.rope_interleaved(q, c_.num_heads, hd, cos_.data(), sin_.data());
      k_.rope_interleaved(k, c_.num_kv_heads, hd, cos_.data(), sin_.data());
      if (c_.use_qk_norm) {  // weightless RMS norm per head (Llama4TextL2Norm)
        for (int64_t head = 0; head < c_.num_heads; ++head) k_.rmsnorm(q + head * hd, nullptr, hd, eps, q + head * hd);
        for (int64_t head = 0; head < c_.num_kv_heads; ++head) k_.rmsnorm(k + head * hd, nullptr, hd, eps, k + head * hd);
      }
    } else if (c_.attn_temperature_tuning) {
      const float temperature = attention_temperature(c_, p0 + t);
      for (int64_t i = 0; i < c_.q_dim(); ++i) q[i] *= temperature;
    }
  }
  observe(l, "q", q_.data(), n, c_.q_dim());
  observe(l, "k", kk_.data(), n, c_.kv_dim());
  observe(l, "v", vv_.data(), n, c_.kv_dim());

  attention(l, cache, p0, n);
  observe(l, "attn", attn_.data(), n, c_.q_dim());

  products(attn_.data(), n, c_.q_dim(), {{&w.wo, qw ? &qw->wo : nullptr, h}});
  each_token(n, [&](int64_t t) {
    k_.add(x + t * hidden, h + t * hidden, hidden);
    k_.rmsnorm(x + t * hidden, w.ffn_norm.data(), hidden, eps, h + t * hidden);
  });
  observe(l, "attn_residual", x, n, hidden);

  const int64_t inter = c_.intermediate_size;
  products(h, n, hidden, {{&w.w_gate, qw ? &qw->w_gate : nullptr, gate_.data()}, {&w.w_up, qw ? &qw->w_up : nullptr, up_.data()}});
  each_token(n, [&](int64_t t) {
    k_.silu_mul(gate_.data() + t * inter, up_.data() + t * inter, inter, gate_.data() + t * inter);
  });
  products(gate_.data(), n, inter, {{&w.w_down, qw ? &qw->w_down : nullptr, h}});
  each_token(n, [&](int64_t t) { k_.add(x + t * hidden, h + t * hidden, hidden); });
  observe(l, "layer_out", x, n, hidden);
}

void Forward::each_token(int64_t n, const std::function<void(int64_t t)>& fn) {
  if (n == 1) return fn(0);
  pool_.split(n, 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) fn(t);
  });
}

void Forward::attention(int64_t l, KvCache& cache, int64_t p0, int64_t n) {
  if (cache.int8()) return attention_int8(l, cache, p0, n);
  KvCache::Layer& store = cache.layer(l);
  const int64_t kv_dim = c_.kv_dim(), hd = c_.head_dim;
  const int64_t group = c_.num_heads / c_.num_kv_heads;
  const size_t kv_row = static_cast<size_t>(kv_dim) * sizeof(float);
  const AttentionKind kind = store.kind;

  // Keys visible to the query at position p are the positions [first_visible(p), p].
  auto first_visible = [&](int64_t p) { return first_visible_position(c_, kind, p); };

  // Lay the visible keys out contiguously in position order: `keys`/`values`
  // hold positions [base, p0 + n). Full layers are already in that order;
  // ring layers are copied into a window buffer, except in single-token
  // decode, where the query sees every live slot of the ring and the order of
  // keys does not matter to attention.
  const float* keys;
  const float* values;
  int64_t base = 0;
  bool ring_direct = false;
  if (kind == AttentionKind::kFull) {
    std::memcpy(store.k.data() + p0 * kv_dim, kk_.data(), kv_row * n);
    std::memcpy(store.v.data() + p0 * kv_dim, vv_.data(), kv_row * n);
    keys = store.k.data();
    values = store.v.data();
  } else if (n == 1) {
    const int64_t slot = p0 % store.slots;
    std::memcpy(store.k.data() + slot * kv_dim, kk_.data(), kv_row);
    std::memcpy(store.v.data() + slot * kv_dim, vv_.data(), kv_row);
    keys = store.k.data();
    values = store.v.data();
    ring_direct = true;
  } else {
    base = first_visible(p0);
    const int64_t old = p0 - base, rows = old + n;
    if (window_k_.size() < static_cast<size_t>(rows * kv_dim)) {
      window_k_.resize(static_cast<size_t>(rows * kv_dim));
      window_v_.resize(static_cast<size_t>(rows * kv_dim));
    }
    for (int64_t p = base; p < p0; ++p) {
      const int64_t slot = p % store.slots;
      std::memcpy(window_k_.data() + (p - base) * kv_dim, store.k.data() + slot * kv_dim, kv_row);
      std::memcpy(window_v_.data() + (p - base) * kv_dim, store.v.data() + slot * kv_dim, kv_row);
    }
    std::memcpy(window_k_.data() + old * kv_dim, kk_.data(), kv_row * n);
    std::memcpy(window_v_.data() + old * kv_dim, vv_.data(), kv_row * n);
    for (int64_t t = std::max<int64_t>(0, n - store.slots); t < n; ++t) {
      const int64_t slot = (p0 + t) % store.slots;
      std::memcpy(store.k.data() + slot * kv_dim, kk_.data() + t * kv_dim, kv_row);
      std::memcpy(store.v.data() + slot * kv_dim, vv_.data() + t * kv_dim, kv_row);
    }
    keys = window_k_.data();
    values = window_v_.data();
  }

  const int64_t max_keys = ring_direct ? store.slots : p0 + n - base;
  for (auto& s : scores_)
    if (s.size() < static_cast<size_t>(group * max_keys)) s.resize(static_cast<size_t>(group * max_keys));

  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  pool_.run(n * c_.num_kv_heads, [&](int64_t task, int thread) {
    const int64_t t = task / c_.num_kv_heads, kv_head = task % c_.num_kv_heads;
    const int64_t p = p0 + t;
    int64_t first, count;
    if (ring_direct) {
      first = 0;
      count = kind == AttentionKind::kSliding ? std::min(p + 1, store.slots) : p % c_.attention_chunk_size + 1;
    } else {
      first = first_visible(p) - base;
      count = p - base - first + 1;
    }
    const float* q = q_.data() + t * c_.q_dim() + kv_head * group * hd;
    float* out = attn_.data() + t * c_.q_dim() + kv_head * group * hd;
    k_.attention(q, group, keys + first * kv_dim + kv_head * hd, values + first * kv_dim + kv_head * hd, kv_dim, count,
                 hd, scale, out, scores_[static_cast<size_t>(thread)].data());
  });
}

void Forward::logits(int64_t n, LogitsFor which, float* out) {
  const int64_t hidden = c_.hidden_size;
  const int64_t first = which == LogitsFor::kAll ? 0 : n - 1;
  const int64_t rows = n - first;
  const float eps = static_cast<float>(c_.rms_norm_eps);
  for (int64_t t = first; t < n; ++t)
    k_.rmsnorm(x_.data() + t * hidden, model_.weights().final_norm.data(), hidden, eps, h_.data() + (t - first) * hidden);
  products(h_.data(), rows, hidden, {{&model_.weights().output, &model_.weights().q_output, out}});
}

}  // namespace mobilellm::model
