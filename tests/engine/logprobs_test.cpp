#include "engine/logprobs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace mobilellm::engine {
namespace {

TEST(Logprobs, MatchesLogSoftmax) {
  std::vector<float> logits = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f};
  double z = 0;
  for (float v : logits) z += std::exp(v);
  TokenLogprob lp = score_token(logits, 4, 3);
  EXPECT_NEAR(lp.logprob, 0.5 - std::log(z), 1e-6);
  ASSERT_EQ(lp.top.size(), 3u);
  EXPECT_EQ(lp.top[0].first, 1);  // tie with 3: lower id first
  EXPECT_EQ(lp.top[1].first, 3);
  EXPECT_EQ(lp.top[2].first, 0);
  EXPECT_NEAR(lp.top[2].second, 1.0 - std::log(z), 1e-6);
  EXPECT_EQ(lp.top[0].second, score_token(logits, 1, 0).logprob);
}

TEST(Logprobs, LargeLogitsDoNotOverflow) {
  std::vector<float> logits(1000, 1000.0f);
  TokenLogprob lp = score_token(logits, 10, 1);
  EXPECT_NEAR(lp.logprob, -std::log(1000.0), 1e-4);
  EXPECT_EQ(lp.top.size(), 1u);
}

TEST(Logprobs, TopLargerThanVocabularyIsTheVocabulary) {
  std::vector<float> logits = {0.0f, 1.0f};
  EXPECT_EQ(score_token(logits, 0, 5).top.size(), 2u);
}

}  // namespace
}  // namespace mobilellm::engine
