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

void Forward::run(KvCache& cache, std::span<const int32_t> tokens, LogitsFor which, float* logits) {
  c_.check_token_ids(tokens);
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
  for (int64_t t = 0; t < n; ++t) model_.weights().embedding.row(tokens[t], x_.data() + t * hidden);
  const int64_t p0 = cache.size();
  for (int64_t l = 0; l < c_.num_layers(); ++l) layer(l, cache, p0, n);
  cache.advance(n);
  if (which != LogitsFor::kNone) logits(n, which, logits_out);
}

void Forward::layer(int64_t l, KvCache& cache, int64_t p0, int64_t n) {
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
    if (spec.use_rope) {
      model_.rope().angles(p0 + t, cos_.data(), sin_.data());
      k_.rope_interleaved(q, c_.num_heads, hd, cos_.data(), sin_.data());
      k_.rope_interleaved(k, c_.num_kv_heads, hd, cos_.data(), sin_.data());
      if (c_.use_qk_norm) {  // weightless RMS norm per head (Llama4TextL2Norm)
        for (int64_t head = 0; head < c_.num_heads; ++head) k_.rmsnorm(q + head * hd, nullptr, hd, eps, q + head * hd);
        for (int64_t head = 0; head < c_.num_kv_heads; ++head)
          k_.rmsnorm(k + head * hd, nullptr, hd, eps, k + head * hd);
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

void Forward::logits(int64_t n, LogitsFor which, float* out) {
  const int64_t hidden = c_.hidden_size;
  const int64_t first = which == LogitsFor::kAll ? 0 : n - 1;
  const int64_t rows = n - first;
  const float eps = static_cast<float>(c_.rms_norm_eps);
  for (int64_t t = first; t < n; ++t)
    k_.rmsnorm(x_.data() + t * hidden, model_.weights().final_norm.data(), hidden, eps,
               h_.data() + (t - first) * hidden);
  linear_.run(h_.data(), rows, hidden, {{&model_.weights().output, out}});
}

}  // namespace mobilellm::model
