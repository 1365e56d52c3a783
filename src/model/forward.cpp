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
      max_batch_(std::max<int64_t>(1, max_batch)),
      linear_(pool, max_batch_, std::max({c_.hidden_size, c_.q_dim(), c_.intermediate_size})) {
  const size_t b = static_cast<size_t>(max_batch_);
  x_.resize(b * c_.hidden_size);
  h_.resize(b * c_.hidden_size);
  q_.resize(b * c_.q_dim());
  kk_.resize(b * c_.kv_dim());
  vv_.resize(b * c_.kv_dim());
  attn_.resize(b * c_.q_dim());
  gate_.resize(b * c_.intermediate_size);
  up_.resize(b * c_.intermediate_size);
  cos_.resize(static_cast<size_t>(c_.head_dim / 2));
  sin_.resize(static_cast<size_t>(c_.head_dim / 2));
}

void Forward::check(const KvCache& cache, std::span<const int32_t> tokens) const {
  c_.check_token_ids(tokens);
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (cache.size() + n > cache.max_context())
    throw Error("context limit reached: " + std::to_string(cache.size()) + " positions used + " + std::to_string(n) +
                " new > " + std::to_string(cache.max_context()));
}

void Forward::run(KvCache& cache, std::span<const int32_t> tokens, LogitsFor which, float* logits) {
  check(cache, tokens);
  const int64_t total = static_cast<int64_t>(tokens.size());
  for (int64_t done = 0; done < total;) {
    const int64_t n = std::min(max_batch_, total - done);
    const bool last_batch = done + n == total;
    const LogitsFor batch_which = which == LogitsFor::kAll ? LogitsFor::kAll : (last_batch ? which : LogitsFor::kNone);
    float* out = which == LogitsFor::kAll ? logits + done * c_.vocab_size : logits;
    const SequenceStep one{&cache, tokens.subspan(static_cast<size_t>(done), static_cast<size_t>(n)), batch_which, out};
    step(std::span<const SequenceStep>(&one, 1));
    done += n;
  }
}

void Forward::step(std::span<const SequenceStep> sequences) {
  int64_t total = 0;
  for (const SequenceStep& s : sequences) {
    check(*s.cache, s.tokens);
    for (const SequenceStep& other : sequences)
      if (&other != &s && other.cache == s.cache) throw Error("a step holds the same KV cache twice");
    total += static_cast<int64_t>(s.tokens.size());
  }
  if (total > max_batch_)
    throw Error("a step of " + std::to_string(total) + " tokens is more than the batch of " +
                std::to_string(max_batch_));
  rows_.clear();
  positions_.resize(static_cast<size_t>(total));
  const int64_t hidden = c_.hidden_size;
  int64_t row = 0;
  for (const SequenceStep& s : sequences) {
    const int64_t n = static_cast<int64_t>(s.tokens.size());
    if (n == 0) continue;
    rows_.push_back({s.cache, s.cache->size(), row, n});
    for (int64_t t = 0; t < n; ++t) {
      model_.weights().embedding.row(s.tokens[static_cast<size_t>(t)], x_.data() + (row + t) * hidden);
      positions_[static_cast<size_t>(row + t)] = s.cache->size() + t;
    }
    row += n;
  }
  if (total == 0) return;
  for (int64_t l = 0; l < c_.num_layers(); ++l) layer(l, total);
  for (const Rows& r : rows_) r.cache->advance(r.n);
  logits(sequences);
}

void Forward::layer(int64_t l, int64_t n) {
  const LayerWeights& w = model_.weights().layers[static_cast<size_t>(l)];
  const int64_t hidden = c_.hidden_size, eps_dim = hidden;
  const float eps = static_cast<float>(c_.rms_norm_eps);
  float* x = x_.data();
  float* h = h_.data();

  each_token(n, [&](int64_t t) { k_.rmsnorm(x + t * hidden, w.attn_norm.data(), eps_dim, eps, h + t * hidden); });
  linear_.run(h, n, hidden, {{&w.wq, q_.data()}, {&w.wk, kk_.data()}, {&w.wv, vv_.data()}});

  const LayerSpec& spec = c_.layers[static_cast<size_t>(l)];
  const int64_t hd = c_.head_dim;
  for (int64_t t = 0; t < n; ++t) {
    float* q = q_.data() + t * c_.q_dim();
    float* k = kk_.data() + t * c_.kv_dim();
    const int64_t p = positions_[static_cast<size_t>(t)];
    if (spec.use_rope) {
      model_.rope().angles(p, cos_.data(), sin_.data());
      k_.rope_interleaved(q, c_.num_heads, hd, cos_.data(), sin_.data());
      k_.rope_interleaved(k, c_.num_kv_heads, hd, cos_.data(), sin_.data());
      if (c_.use_qk_norm) {  // weightless RMS norm per head (Llama4TextL2Norm)
        for (int64_t head = 0; head < c_.num_heads; ++head) k_.rmsnorm(q + head * hd, nullptr, hd, eps, q + head * hd);
        for (int64_t head = 0; head < c_.num_kv_heads; ++head)
          k_.rmsnorm(k + head * hd, nullptr, hd, eps, k + head * hd);
      }
    } else if (c_.attn_temperature_tuning) {
      const float temperature = attention_temperature(c_, p);
      for (int64_t i = 0; i < c_.q_dim(); ++i) q[i] *= temperature;
    }
  }
  observe(l, "q", q_.data(), n, c_.q_dim());
  observe(l, "k", kk_.data(), n, c_.kv_dim());
  observe(l, "v", vv_.data(), n, c_.kv_dim());

  for (const Rows& seq : rows_) attention(l, seq);
  observe(l, "attn", attn_.data(), n, c_.q_dim());

  linear_.run(attn_.data(), n, c_.q_dim(), {{&w.wo, h}});
  each_token(n, [&](int64_t t) {
    k_.add(x + t * hidden, h + t * hidden, hidden);
    k_.rmsnorm(x + t * hidden, w.ffn_norm.data(), hidden, eps, h + t * hidden);
  });
  observe(l, "attn_residual", x, n, hidden);

  const int64_t inter = c_.intermediate_size;
  linear_.run(h, n, hidden, {{&w.w_gate, gate_.data()}, {&w.w_up, up_.data()}});
  each_token(n, [&](int64_t t) {
    k_.silu_mul(gate_.data() + t * inter, up_.data() + t * inter, inter, gate_.data() + t * inter);
  });
  linear_.run(gate_.data(), n, inter, {{&w.w_down, h}});
  each_token(n, [&](int64_t t) { k_.add(x + t * hidden, h + t * hidden, hidden); });
  observe(l, "layer_out", x, n, hidden);
}

void Forward::each_token(int64_t n, const std::function<void(int64_t t)>& fn) {
  if (n == 1) return fn(0);
  pool_.split(n, 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) fn(t);
  });
}

void Forward::logits(std::span<const SequenceStep> sequences) {
  const int64_t hidden = c_.hidden_size, vocab = c_.vocab_size;
  const float eps = static_cast<float>(c_.rms_norm_eps);
  // The rows whose logits are wanted, normalized into h_ in step order.
  int64_t rows = 0, row = 0, wanting = 0;
  const SequenceStep* last = nullptr;
  for (const SequenceStep& s : sequences) {
    const int64_t n = static_cast<int64_t>(s.tokens.size());
    if (s.which != LogitsFor::kNone && n > 0) {
      const int64_t first = s.which == LogitsFor::kAll ? 0 : n - 1;
      for (int64_t t = first; t < n; ++t, ++rows)
        k_.rmsnorm(x_.data() + (row + t) * hidden, model_.weights().final_norm.data(), hidden, eps,
                   h_.data() + rows * hidden);
      ++wanting;
      last = &s;
    }
    row += n;
  }
  if (rows == 0) return;
  // One sequence's logits go straight to it; several share one product and
  // are handed out after.
  if (wanting == 1) {
    linear_.run(h_.data(), rows, hidden, {{&model_.weights().output, last->logits}});
    return;
  }
  if (logits_.size() < static_cast<size_t>(rows * vocab)) logits_.resize(static_cast<size_t>(rows * vocab));
  linear_.run(h_.data(), rows, hidden, {{&model_.weights().output, logits_.data()}});
  const float* from = logits_.data();
  for (const SequenceStep& s : sequences) {
    const int64_t n = static_cast<int64_t>(s.tokens.size());
    if (s.which == LogitsFor::kNone || n == 0) continue;
    const int64_t count = (s.which == LogitsFor::kAll ? n : 1) * vocab;
    std::memcpy(s.logits, from, static_cast<size_t>(count) * sizeof(float));
    from += count;
  }
}

}  // namespace mobilellm::model
