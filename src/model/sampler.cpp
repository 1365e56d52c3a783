#include "model/sampler.h"

#include <algorithm>
#include <cmath>

#include "runtime/error.h"

namespace mobilellm::model {
namespace {
// Tokens whose probability is below e^-40 of the most likely one are dropped
// before sorting: together they weigh less than 1e-12 of it, for any vocabulary
// we load, and sorting 200k logits per token would cost more than the sampling.
constexpr double kNegligibleLogProb = -40.0;
}  // namespace

void validate(const SamplingParams& p) {
  if (!(p.temperature >= 0) || !std::isfinite(p.temperature)) throw Error("temperature must be ≥ 0");
  if (p.top_k < 0) throw Error("top_k must be ≥ 0");
  if (!(p.top_p > 0 && p.top_p <= 1)) throw Error("top_p must be in (0, 1]");
  if (!(p.min_p >= 0 && p.min_p <= 1)) throw Error("min_p must be in [0, 1]");
  if (!(p.repetition_penalty > 0) || !std::isfinite(p.repetition_penalty))
    throw Error("repetition_penalty must be > 0");
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) { validate(params); }

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> history) {
  const int32_t greedy = distribution(logits, history);
  return greedy >= 0 ? greedy : draw(-1);
}

int32_t Sampler::sample_or_accept(std::span<float> logits, std::span<const int32_t> history, int32_t draft) {
  const int32_t greedy = distribution(logits, history);
  if (greedy >= 0) return greedy;
  double kept_mass = 0, draft_mass = 0;
  for (size_t i = 0; i < probs_.size(); ++i) {
    kept_mass += probs_[i];
    if (candidates_[i] == draft) draft_mass = probs_[i];
  }
  if (draft_mass >= kept_mass || std::uniform_real_distribution<double>(0.0, kept_mass)(rng_) < draft_mass)
    return draft;
  return draw(draft);
}

int32_t Sampler::distribution(std::span<float> logits, std::span<const int32_t> history) {
  const int64_t vocab = static_cast<int64_t>(logits.size());
  if (params_.repetition_penalty != 1.0) {
    const float penalty = static_cast<float>(params_.repetition_penalty);
    std::vector<int32_t> seen(history.begin(), history.end());
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    for (int32_t id : seen) {
      if (id < 0 || id >= vocab) continue;
      float& v = logits[static_cast<size_t>(id)];
      v = v > 0 ? v / penalty : v * penalty;
    }
  }
  if (params_.temperature == 0.0)
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());

  const double inv_t = 1.0 / params_.temperature;
  const float top = *std::max_element(logits.begin(), logits.end());
  // Log-weight below the top token, in [0, 40): also the top-p bucket key.
  auto depth = [&](int32_t id) { return (top - logits[static_cast<size_t>(id)]) * inv_t; };
  candidates_.clear();
  for (int64_t i = 0; i < vocab; ++i)
    if (depth(static_cast<int32_t>(i)) < -kNegligibleLogProb) candidates_.push_back(static_cast<int32_t>(i));
  auto by_logit = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  if (params_.top_k > 0 && candidates_.size() > static_cast<size_t>(params_.top_k)) {
    std::nth_element(candidates_.begin(), candidates_.begin() + params_.top_k, candidates_.end(), by_logit);
    candidates_.resize(static_cast<size_t>(params_.top_k));
  }
  weights_.resize(static_cast<size_t>(vocab));
  double total = 0;  // top-p's mass is counted before min-p drops anything
  for (int32_t id : candidates_) total += weights_[id] = static_cast<float>(std::exp(-depth(id)));
  if (params_.min_p > 0) {  // drop tokens less likely than min_p × the most likely (weight 1)
    std::erase_if(candidates_, [&](int32_t id) { return weights_[id] < params_.min_p; });
  }
  size_t keep = candidates_.size();
  if (params_.top_p < 1.0) {
    // The smallest most-likely-first prefix whose mass reaches top_p, without
    // sorting 200k near-equal candidates (a random model's flat logits): mass
    // per bucket of log-weight finds the bucket where the prefix ends, and
    // only that bucket is sorted.
    constexpr int kBuckets = 4096;
    bucket_of_.resize(static_cast<size_t>(vocab));
    bucket_mass_.assign(kBuckets, 0.0);
    for (int32_t id : candidates_) {
      const int b = std::min(kBuckets - 1, static_cast<int>(depth(id) * (kBuckets / -kNegligibleLogProb)));
      bucket_of_[static_cast<size_t>(id)] = static_cast<uint16_t>(b);
      bucket_mass_[static_cast<size_t>(b)] += weights_[id];
    }
    auto bucket = [&](int32_t id) { return static_cast<int>(bucket_of_[static_cast<size_t>(id)]); };
    const double target = params_.top_p * total;
    double mass = 0;
    int last = 0;
    while (last < kBuckets && mass + bucket_mass_[static_cast<size_t>(last)] < target)
      mass += bucket_mass_[static_cast<size_t>(last++)];
    const auto before =
        std::partition(candidates_.begin(), candidates_.end(), [&](int32_t id) { return bucket(id) < last; });
    const auto end = std::partition(before, candidates_.end(), [&](int32_t id) { return bucket(id) == last; });
    std::sort(before, end, by_logit);
    size_t cut = static_cast<size_t>(before - candidates_.begin());
    while (cut < static_cast<size_t>(end - candidates_.begin()) && mass < target) mass += weights_[candidates_[cut++]];
    keep = std::max<size_t>(1, cut);
  }
  probs_.resize(keep);
  for (size_t i = 0; i < keep; ++i) probs_[i] = weights_[candidates_[i]];
  return -1;
}

int32_t Sampler::draw(int32_t excluded) {
  const size_t keep = probs_.size();
  double kept_mass = 0;
  for (size_t i = 0; i < keep; ++i)
    if (candidates_[i] != excluded) kept_mass += probs_[i];
  const double r = std::uniform_real_distribution<double>(0.0, kept_mass)(rng_);
  double acc = 0;
  size_t last = keep;
  for (size_t i = 0; i < keep; ++i) {
    if (candidates_[i] == excluded) continue;
    acc += probs_[i];
    last = i;
    if (r < acc) return candidates_[i];
  }
  return candidates_[last];
}

}  // namespace mobilellm::model
