#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <map>
#include <random>

#include "model/sampler.h"
#include "runtime/error.h"

namespace mobilellm::model {
namespace {

std::vector<float> logits() { return {0.5f, 2.0f, 1.0f, -1.0f, 1.9f, 0.0f}; }

int32_t pick(SamplingParams p, std::vector<int32_t> history = {}) {
  Sampler s(p);
  auto l = logits();
  return s.sample(l, history);
}

TEST(Sampler, GreedyTakesTheArgmax) {
  SamplingParams p;
  p.temperature = 0;
  EXPECT_EQ(pick(p), 1);
}

TEST(Sampler, RepetitionPenaltyAsHuggingFace) {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0;  // 2.0 → 1.0 for token 1, so 1.9 (token 4) wins
  EXPECT_EQ(pick(p, {1}), 4);
}

TEST(Sampler, TopKOneAndTinyTopPAreGreedy) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SamplingParams k;
    k.temperature = 1.5;
    k.top_k = 1;
    k.top_p = 1.0;
    k.seed = seed;
    EXPECT_EQ(pick(k), 1);
    SamplingParams p;
    p.temperature = 1.5;
    p.top_p = 0.01;
    p.seed = seed;
    EXPECT_EQ(pick(p), 1);
  }
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  SamplingParams p;
  p.temperature = 1.0;
  p.top_p = 1.0;
  p.min_p = 0.5;  // keeps tokens with p ≥ 0.5 p_max: logits 2.0 and 1.9 only
  for (uint64_t seed = 0; seed < 50; ++seed) {
    p.seed = seed;
    int32_t t = pick(p);
    EXPECT_TRUE(t == 1 || t == 4) << t;
  }
}

TEST(Sampler, SameSeedSameTokensAndDistributionIsSoftmax) {
  SamplingParams p;
  p.temperature = 1.0;
  p.top_p = 1.0;
  p.seed = 42;
  Sampler a(p), b(p);
  std::map<int32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto la = logits(), lb = logits();
    int32_t ta = a.sample(la, {}), tb = b.sample(lb, {});
    ASSERT_EQ(ta, tb);
    counts[ta]++;
  }
  double z = 0;
  for (float v : logits()) z += std::exp(v);
  for (int id = 0; id < 6; ++id) {
    double expected = std::exp(logits()[id]) / z;
    EXPECT_NEAR(counts[id] / double(n), expected, 0.015) << id;
  }
}

// Top-p over a large, nearly flat vocabulary (a random model's logits): every
// sampled token lies inside the nucleus that a plain full sort finds, and the
// nucleus's least likely tenth and hundredth are reached, so it was not cut
// short either.
TEST(Sampler, TopPOnAFlatVocabularyKeepsExactlyTheNucleus) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<float> base(50000);
  for (float& v : base) v = uniform(rng);
  SamplingParams p;
  p.temperature = 0.7;
  p.top_p = 0.5;
  p.seed = 9;

  std::vector<int32_t> order(base.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return base[a] > base[b] || (base[a] == base[b] && a < b); });
  const float top = base[order[0]];
  double total = 0;
  for (float v : base) total += std::exp((v - top) / p.temperature);
  std::vector<int> rank(base.size(), -1);
  double mass = 0;
  size_t nucleus = 0;
  while (mass < p.top_p * total) {
    rank[order[nucleus]] = static_cast<int>(nucleus);
    mass += std::exp((base[order[nucleus]] - top) / p.temperature);
    ++nucleus;
  }

  Sampler s(p);
  int in_last_tenth = 0, in_last_percent = 0;
  for (int i = 0; i < 1500; ++i) {
    auto l = base;
    const int32_t t = s.sample(l, {});
    ASSERT_GE(rank[t], 0) << "token " << t << " is outside the nucleus of " << nucleus;
    in_last_tenth += rank[t] >= static_cast<int>(nucleus * 9 / 10);
    in_last_percent += rank[t] >= static_cast<int>(nucleus * 99 / 100);
  }
  EXPECT_GT(in_last_tenth, 50);
  EXPECT_GT(in_last_percent, 0);
}

TEST(Sampler, RejectsOutOfRangeParameters) {
  SamplingParams p;
  p.top_p = 0;
  EXPECT_THROW(validate(p), Error);
  p = {};
  p.temperature = -1;
  EXPECT_THROW(validate(p), Error);
  p = {};
  p.min_p = 2;
  EXPECT_THROW(validate(p), Error);
}

}  // namespace
}  // namespace mobilellm::model
