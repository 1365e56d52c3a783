#pragma once
// Perplexity and KL divergence with llama.cpp's `llama-perplexity` semantics
// (docs/PERPLEXITY.md): the text is tokenized once, cut into non-overlapping
// chunks of n_ctx tokens, and only the second half of each chunk is scored,
// so every scored token sees at least n_ctx/2 tokens of context.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "io/mapped_file.h"

namespace mobilellm::eval {

struct ChunkPlan {
  int64_t n_ctx = 0;
  int64_t chunks = 0;
  // Positions [first_scored, n_ctx − 1) of a chunk predict the token after them.
  int64_t first_scored() const { return n_ctx / 2; }
  int64_t scored_per_chunk() const { return n_ctx - 1 - first_scored(); }
};

// requested_chunks −1: as many as the text holds. Throws Error when the text
// has fewer than 2·n_ctx tokens (llama.cpp's rule), n_ctx < 4, or
// requested_chunks is neither −1 nor positive.
ChunkPlan plan_chunks(int64_t n_tokens, int64_t n_ctx, int64_t requested_chunks);

// −log softmax(logits)[target], in double; `argmax` gets the top id.
double token_nll(const float* logits, int64_t vocab, int32_t target, int32_t* argmax);

// Running mean of negative log-likelihoods: PPL = exp(mean) and its standard
// error exp(mean)·σ/√(n−1), as llama-perplexity prints it.
class NllStats {
 public:
  void add(double nll);
  int64_t count() const { return count_; }
  double ppl() const;
  double ppl_error() const;

 private:
  int64_t count_ = 0;
  double sum_ = 0, sum2_ = 0;
};

// A row of log-probabilities kept in 16 bits: max_logit and log Σ exp, then
// for each id round((max_logit − logit) / kStep) saturated at 65535, i.e.
// log-probabilities within 32 nats of the top are kept to 2.5e-4 nats.
struct CompressedLogprobs {
  static constexpr double kRange = 32.0;
  static constexpr double kStep = kRange / 65535.0;
  static size_t bytes(int64_t vocab) { return 2 * sizeof(float) + static_cast<size_t>(vocab) * sizeof(uint16_t); }
  static void compress(const float* logits, int64_t vocab, uint8_t* out);
  // log p(id) for every id of a compressed row.
  static void logprobs(const uint8_t* row, int64_t vocab, double* out);
};

// The base file of `--kl-divergence-base`: header, the scored tokens, then one
// compressed row per scored position.
struct KlBaseHeader {
  int64_t n_ctx = 0, vocab = 0, chunks = 0;
  std::vector<int32_t> tokens;  // chunks · n_ctx, with BOS replacements applied
};

class KlBaseWriter {
 public:
  // Writes to `file`, which the caller owns (an atomic output).
  KlBaseWriter(std::FILE* file, const std::string& where, const KlBaseHeader& header);
  void add_row(const float* logits);

 private:
  std::FILE* file_;
  std::string where_;
  int64_t vocab_;
  std::vector<uint8_t> row_;
};

class KlBaseReader {
 public:
  explicit KlBaseReader(const std::filesystem::path& path);  // throws Error on a malformed file
  const KlBaseHeader& header() const { return header_; }
  int64_t rows() const { return rows_; }
  const uint8_t* row(int64_t i) const {
    return rows_begin_ + static_cast<size_t>(i) * CompressedLogprobs::bytes(header_.vocab);
  }

 private:
  io::MappedFile file_;
  KlBaseHeader header_;
  const uint8_t* rows_begin_ = nullptr;
  int64_t rows_ = 0;
};

// Compares a model's rows with the base rows: KL(base ‖ model), top-1
// agreement and both perplexities.
class KlStats {
 public:
  explicit KlStats(int64_t vocab) : base_lp_(static_cast<size_t>(vocab)) {}
  void add(const uint8_t* base_row, const float* logits, int64_t vocab, int32_t target);
  void report(std::FILE* out) const;
  int64_t count() const { return static_cast<int64_t>(kld_.size()); }

 private:
  std::vector<double> base_lp_;
  std::vector<double> kld_;
  NllStats model_nll_, base_nll_;
  double sum_log_ratio_ = 0, sum_log_ratio2_ = 0;
  int64_t same_top_ = 0;
};

}  // namespace mobilellm::eval
