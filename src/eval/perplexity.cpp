#include "eval/perplexity.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/error.h"

namespace mobilellm::eval {
namespace {

constexpr char kMagic[8] = {'M', 'L', 'L', 'M', 'K', 'L', 'D', '\x01'};

double log_sum_exp(const float* logits, int64_t vocab, float max_logit) {
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max_logit);
  return static_cast<double>(max_logit) + std::log(sum);
}

float max_of(const float* x, int64_t n) { return *std::max_element(x, x + n); }

}  // namespace

ChunkPlan plan_chunks(int64_t n_tokens, int64_t n_ctx, int64_t requested_chunks) {
  if (n_ctx < 4) throw Error("the context must be at least 4 tokens (got " + std::to_string(n_ctx) + ")");
  if (requested_chunks == 0 || requested_chunks < -1)
    throw Error("the number of chunks must be -1 (all) or at least 1 (got " + std::to_string(requested_chunks) + ")");
  if (n_tokens < 2 * n_ctx)
    throw Error("the text has " + std::to_string(n_tokens) + " tokens; perplexity with a context of " +
                std::to_string(n_ctx) + " needs at least " + std::to_string(2 * n_ctx));
  int64_t available = n_tokens / n_ctx;
  return {n_ctx, requested_chunks < 0 ? available : std::min(requested_chunks, available)};
}

double token_nll(const float* logits, int64_t vocab, int32_t target, int32_t* argmax) {
  const float* top = std::max_element(logits, logits + vocab);
  *argmax = static_cast<int32_t>(top - logits);
  return log_sum_exp(logits, vocab, *top) - logits[target];
}

void NllStats::add(double nll) {
  ++count_;
  sum_ += nll;
  sum2_ += nll * nll;
}

double NllStats::ppl() const { return std::exp(sum_ / static_cast<double>(count_)); }

double NllStats::ppl_error() const {
  if (count_ < 2) return 0;
  double mean = sum_ / static_cast<double>(count_);
  double var = sum2_ / static_cast<double>(count_) - mean * mean;
  return var > 0 ? std::sqrt(var / static_cast<double>(count_ - 1)) * ppl() : 0;
}

void CompressedLogprobs::compress(const float* logits, int64_t vocab, uint8_t* out) {
  float max_logit = max_of(logits, vocab);
  float lse = static_cast<float>(log_sum_exp(logits, vocab, max_logit));
  std::memcpy(out, &max_logit, sizeof max_logit);
  std::memcpy(out + sizeof(float), &lse, sizeof lse);
  uint8_t* q = out + 2 * sizeof(float);
  for (int64_t i = 0; i < vocab; ++i) {
    double steps = std::nearbyint((static_cast<double>(max_logit) - logits[i]) / kStep);
    auto v = static_cast<uint16_t>(std::min(steps, 65535.0));
    std::memcpy(q + 2 * i, &v, sizeof v);
  }
}

void CompressedLogprobs::logprobs(const uint8_t* row, int64_t vocab, double* out) {
  float max_logit, lse;
  std::memcpy(&max_logit, row, sizeof max_logit);
  std::memcpy(&lse, row + sizeof(float), sizeof lse);
  const uint8_t* q = row + 2 * sizeof(float);
  double top = static_cast<double>(max_logit) - lse;
  for (int64_t i = 0; i < vocab; ++i) {
    uint16_t v;
    std::memcpy(&v, q + 2 * i, sizeof v);
    out[i] = top - v * kStep;
  }
}

KlBaseWriter::KlBaseWriter(std::FILE* file, const std::string& where, const KlBaseHeader& header)
    : file_(file), where_(where), vocab_(header.vocab), row_(CompressedLogprobs::bytes(header.vocab)) {
  int64_t dims[3] = {header.n_ctx, header.vocab, header.chunks};
  bool ok = std::fwrite(kMagic, 1, sizeof kMagic, file_) == sizeof kMagic &&
            std::fwrite(dims, sizeof dims, 1, file_) == 1 &&
            std::fwrite(header.tokens.data(), sizeof(int32_t), header.tokens.size(), file_) == header.tokens.size();
  if (!ok) throw Error(where_ + ": cannot write");
}

void KlBaseWriter::add_row(const float* logits) {
  CompressedLogprobs::compress(logits, vocab_, row_.data());
  if (std::fwrite(row_.data(), 1, row_.size(), file_) != row_.size()) throw Error(where_ + ": cannot write");
}

KlBaseReader::KlBaseReader(const std::filesystem::path& path) : file_(path) {
  const std::string where = path.string();
  auto fail = [&](const std::string& what) -> void {
    throw Error(where + ": not a --kl-divergence-base file: " + what);
  };
  const uint8_t* p = file_.data();
  size_t size = file_.size();
  size_t header_bytes = sizeof kMagic + 3 * sizeof(int64_t);
  if (size < header_bytes || std::memcmp(p, kMagic, sizeof kMagic) != 0) fail("bad magic");
  int64_t dims[3];
  std::memcpy(dims, p + sizeof kMagic, sizeof dims);
  header_.n_ctx = dims[0];
  header_.vocab = dims[1];
  header_.chunks = dims[2];
  constexpr int64_t kMaxDim = int64_t{1} << 24;
  if (header_.n_ctx < 4 || header_.n_ctx > kMaxDim || header_.vocab < 1 || header_.vocab > kMaxDim ||
      header_.chunks < 1 || header_.chunks > kMaxDim)
    fail("implausible dimensions");
  ChunkPlan plan{header_.n_ctx, header_.chunks};
  auto n_tokens = static_cast<size_t>(header_.chunks * header_.n_ctx);
  rows_ = header_.chunks * plan.scored_per_chunk();
  // Dimensions under 2^24 still multiply past 2^64: a wrapped product could
  // match a tiny file and send the copies below far past its end.
  size_t expected = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(rows_), CompressedLogprobs::bytes(header_.vocab), &expected) ||
      __builtin_add_overflow(expected, header_bytes + n_tokens * sizeof(int32_t), &expected))
    fail("n_ctx " + std::to_string(header_.n_ctx) + ", " + std::to_string(header_.chunks) + " chunks and vocabulary " +
         std::to_string(header_.vocab) + " imply more bytes than a file holds");
  if (size != expected) fail("size " + std::to_string(size) + " bytes, the header implies " + std::to_string(expected));
  header_.tokens.resize(n_tokens);
  std::memcpy(header_.tokens.data(), p + header_bytes, n_tokens * sizeof(int32_t));
  rows_begin_ = p + header_bytes + n_tokens * sizeof(int32_t);
}

void KlStats::add(const uint8_t* base_row, const float* logits, int64_t vocab, int32_t target) {
  CompressedLogprobs::logprobs(base_row, vocab, base_lp_.data());
  float max_logit = max_of(logits, vocab);
  double lse = log_sum_exp(logits, vocab, max_logit);
  double kld = 0;
  int64_t base_top = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    double lp = logits[i] - lse;
    kld += std::exp(base_lp_[i]) * (base_lp_[i] - lp);
    if (base_lp_[i] > base_lp_[base_top]) base_top = i;
  }
  kld_.push_back(std::max(kld, 0.0));
  int64_t model_top = std::max_element(logits, logits + vocab) - logits;
  same_top_ += model_top == base_top;
  double model_nll = lse - logits[target];
  double base_nll = -base_lp_[target];
  model_nll_.add(model_nll);
  base_nll_.add(base_nll);
  sum_log_ratio_ += base_nll - model_nll;
  sum_log_ratio2_ += (base_nll - model_nll) * (base_nll - model_nll);
}

void KlStats::report(std::FILE* out) const {
  auto n = static_cast<double>(kld_.size());
  if (kld_.empty()) return;
  auto mean_err = [n](double sum, double sum2) {
    double mean = sum / n;
    double var = sum2 / n - mean * mean;
    return std::pair{mean, n > 1 && var > 0 ? std::sqrt(var / (n - 1)) : 0.0};
  };
  auto [log_ratio, log_ratio_err] = mean_err(-sum_log_ratio_, sum_log_ratio2_);
  std::vector<double> sorted = kld_;
  std::sort(sorted.begin(), sorted.end());
  auto quantile = [&](double q) { return sorted[static_cast<size_t>(q * (n - 1) + 0.5)]; };
  double sum = 0, sum2 = 0;
  for (double k : kld_) sum += k, sum2 += k * k;
  auto [kld_mean, kld_err] = mean_err(sum, sum2);
  double same = static_cast<double>(same_top_) / n;
  std::fprintf(out, "====== Perplexity statistics ======\n");
  std::fprintf(out, "Mean PPL(Q)                   : %10.6f +/- %10.6f\n", model_nll_.ppl(), model_nll_.ppl_error());
  std::fprintf(out, "Mean PPL(base)                : %10.6f +/- %10.6f\n", base_nll_.ppl(), base_nll_.ppl_error());
  std::fprintf(out, "Mean ln(PPL(Q)/PPL(base))     : %10.6f +/- %10.6f\n", log_ratio, log_ratio_err);
  std::fprintf(out, "Mean PPL(Q)/PPL(base)         : %10.6f +/- %10.6f\n", std::exp(log_ratio),
               std::exp(log_ratio) * log_ratio_err);
  std::fprintf(out, "\n====== KL divergence statistics ======\n");
  std::fprintf(out, "Mean    KLD: %10.6f +/- %10.6f\n", kld_mean, kld_err);
  std::fprintf(out, "Maximum KLD: %10.6f\n", sorted.back());
  std::fprintf(out, "99.9%%   KLD: %10.6f\n", quantile(0.999));
  std::fprintf(out, "99.0%%   KLD: %10.6f\n", quantile(0.99));
  std::fprintf(out, "Median  KLD: %10.6f\n", quantile(0.5));
  std::fprintf(out, "Minimum KLD: %10.6f\n", sorted.front());
  std::fprintf(out, "\n====== Token probability statistics ======\n");
  std::fprintf(out, "Same top p: %6.3f +/- %5.3f %%\n", 100 * same, 100 * std::sqrt(same * (1 - same) / n));
}

}  // namespace mobilellm::eval
