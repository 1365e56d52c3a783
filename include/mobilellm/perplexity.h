#pragma once
// Perplexity with llama.cpp's `llama-perplexity` semantics (docs/PERPLEXITY.md):
// what `mobilellm perplexity` and the Python package's Model.perplexity run.
//
//   mobilellm::PerplexityChunks chunks = engine->perplexity_chunks(text, 512);
//   mobilellm::PerplexityResult r = engine->perplexity(chunks);
//   std::printf("Final estimate: PPL = %.4f +/- %.4f\n", r.ppl, r.ppl_error);
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace mobilellm {

// A text cut into the chunks perplexity scores (Engine::perplexity_chunks):
// tokenized once (BOS first when the model's tokenizer adds one, invalid
// UTF-8 as U+FFFD), cut into non-overlapping chunks of context() tokens, the
// first token of each replaced by BOS when the model adds one.
class PerplexityChunks {
 public:
  int64_t context() const { return context_; }          // tokens per chunk
  int64_t count() const { return count_; }              // chunks
  int64_t text_tokens() const { return text_tokens_; }  // tokens of the whole text
  // Positions context()/2 … context()−2 of a chunk are scored: each predicts
  // the token after it with at least context()/2 tokens before it.
  int64_t first_scored() const;
  int64_t scored_per_chunk() const;
  std::span<const int32_t> tokens() const { return tokens_; }  // count() × context() ids, as scored

 private:
  friend class Engine;
  int64_t context_ = 0, count_ = 0, text_tokens_ = 0;
  std::vector<int32_t> tokens_;
};

struct PerplexityProgress {
  int64_t chunks_done = 0;
  int64_t chunks = 0;
  double ppl = 0;  // the estimate over the chunks done (the CLI's "[i]ppl," values)
  double seconds = 0;
};

struct PerplexityOptions {
  // Tokens per forward pass, 1 … the engine's prefill_chunk; 0: prefill_chunk.
  int64_t batch = 0;
  const std::atomic<bool>* cancel = nullptr;                // set by another thread to stop after the current batch
  std::function<void(const PerplexityProgress&)> on_chunk;  // after each chunk
  // Each scored position in order: its logits [vocab] and the token that
  // follows it (e.g. to compare with another model's).
  std::function<void(std::span<const float> logits, int32_t next_token)> on_scored;
};

struct PerplexityResult {
  double ppl = 0;                   // exp(mean NLL) over the scored tokens: the CLI's "Final estimate"
  double ppl_error = 0;             // its uncertainty, PPL · σ(NLL) / √(n − 1) (llama.cpp's formula)
  std::vector<double> running_ppl;  // the estimate after each chunk
  // The negative log-likelihood (natural log) of every scored token, chunk
  // after chunk: running_ppl.size() × scored_per_chunk() values.
  std::vector<double> nll;
  double seconds = 0;
  bool cancelled = false;  // stopped by `cancel`: the numbers cover the whole chunks done
};

}  // namespace mobilellm
