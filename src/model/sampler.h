#pragma once
// Picks the next token from logits: greedy, or sampling with temperature,
// top-k, top-p, min-p and a repetition penalty (applied in that order, as
// Hugging Face's generate does). The same seed gives the same tokens.
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace mobilellm::model {

struct SamplingParams {
  double temperature = 0.6;         // 0: greedy
  int64_t top_k = 0;                // 0: off
  double top_p = 0.9;               // 1: off
  double min_p = 0.0;               // 0: off
  double repetition_penalty = 1.0;  // 1: off
  uint64_t seed = 0;
};

// Throws Error naming the parameter when a value is out of range.
void validate(const SamplingParams& params);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  // `logits` is modified. `history`: tokens the repetition penalty applies to.
  int32_t sample(std::span<float> logits, std::span<const int32_t> history);
  // Speculative decoding's rule for a token `draft` proposed by a
  // deterministic proposer (its distribution is a point mass): accepts it
  // with probability p(draft), else samples from p without it, renormalised,
  // so the result is distributed as sample()'s. Greedy: the most likely token.
  int32_t sample_or_accept(std::span<float> logits, std::span<const int32_t> history, int32_t draft);

 private:
  // Applies the penalty and, when sampling, leaves the candidates kept and
  // their weights in candidates_[0, kept) and probs_; returns the greedy
  // choice (-1 when sampling).
  int32_t distribution(std::span<float> logits, std::span<const int32_t> history);
  // A candidate drawn in proportion to probs_, `excluded` (a token id) left out.
  int32_t draw(int32_t excluded);

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<int32_t> candidates_;
  std::vector<float> weights_;       // by token id: exp((logit − max) / T) of the candidates
  std::vector<double> bucket_mass_;  // top-p: mass per bucket of log-weight
  std::vector<uint16_t> bucket_of_;  // top-p: by token id, the candidate's bucket
  std::vector<float> probs_;
};

}  // namespace mobilellm::model
