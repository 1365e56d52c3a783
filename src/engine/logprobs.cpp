#include "engine/logprobs.h"

#include <algorithm>
#include <cmath>

namespace mobilellm::engine {

TokenLogprob score_token(std::span<const float> logits, int32_t id, int top_n) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v - max));
  // log-sum-exp in double: the vocabulary has 200k terms.
  const double log_z = static_cast<double>(max) + std::log(sum);
  auto logprob = [&](int32_t i) { return static_cast<float>(logits[static_cast<size_t>(i)] - log_z); };

  TokenLogprob out;
  out.id = id;
  out.logprob = logprob(id);
  if (top_n <= 0) return out;
  // A sorted list of the best top_n so far: one pass, no copy of the row.
  auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  std::vector<int32_t> best;
  best.reserve(static_cast<size_t>(top_n) + 1);
  for (int32_t i = 0; i < static_cast<int32_t>(logits.size()); ++i) {
    if (static_cast<int>(best.size()) == top_n && !better(i, best.back())) continue;
    best.insert(std::upper_bound(best.begin(), best.end(), i, better), i);
    if (static_cast<int>(best.size()) > top_n) best.pop_back();
  }
  for (int32_t i : best) out.top.emplace_back(i, logprob(i));
  return out;
}

}  // namespace mobilellm::engine
