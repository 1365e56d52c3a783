#pragma once
// Speculative decoding: a proposer guesses the tokens that come next, one
// forward pass runs the last sampled token and the guesses together, and the
// generation loop (session.cpp) keeps the guesses the model agrees with,
// each checked by model::Sampler::sample_or_accept, so the output is what
// plain decoding would give (the same tokens when greedy, the same
// distribution when sampling). The KV cache forgets the rest
// (KvCache::keep_for_rollback). A pass of K + 1 tokens reads the weights
// once, like a pass of one: decode goes faster when guesses are accepted.
#include <cstdint>
#include <span>
#include <vector>

namespace mobilellm::engine {

// Guesses the tokens that follow a text. Deterministic: the same text gives
// the same guesses (the sampling rule relies on it).
class Proposer {
 public:
  virtual ~Proposer() = default;
  // Up to `max` tokens that may follow `context` (the prompt and the tokens
  // sampled so far); none when it has no guess.
  virtual std::vector<int32_t> propose(std::span<const int32_t> context, int64_t max) = 0;
};

// Prompt lookup (llama.cpp's lookup decoding, vLLM's n-gram proposer): finds
// the latest earlier occurrence of the context's last n tokens, the longest
// n first, and proposes what followed it. Rewriting, summarizing with quotes
// and answering from a given text copy spans of the prompt.
class PromptLookup final : public Proposer {
 public:
  static constexpr int64_t kMaxNgram = 3;
  static constexpr int64_t kMinNgram = 1;
  std::vector<int32_t> propose(std::span<const int32_t> context, int64_t max) override;
};

// How many tokens to propose before each pass, backing off while proposals
// keep failing (a pass that verifies rejected guesses costs more than a
// one-token pass and gains nothing), and what came of them.
class DraftBudget {
 public:
  explicit DraftBudget(int64_t max) : max_(max) {}
  // The most tokens to propose now: 0 while backing off.
  int64_t next();
  void verified(int64_t proposed, int64_t accepted);
  int64_t proposed() const { return proposed_; }
  int64_t accepted() const { return accepted_; }

 private:
  // After this many passes in a row accept nothing, proposing pauses for 2,
  // 4, 8… tokens, at most kMaxPause, until a pass accepts a token again.
  static constexpr int kFailuresBeforePause = 2;
  static constexpr int64_t kMaxPause = 64;
  int64_t max_;
  int failures_ = 0;
  int64_t pause_ = 0;
  int64_t proposed_ = 0, accepted_ = 0;
};

}  // namespace mobilellm::engine
