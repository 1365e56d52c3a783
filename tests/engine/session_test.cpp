// Sessions on a tiny random checkpoint (sliding window 16, real tokenizer):
// cache reuse never changes the output, prompt scores agree with generation,
// stop strings, cancellation, constraints, and sessions running side by side.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "runtime/error.h"
#include "tiny_engine.h"

namespace mobilellm {
namespace {

GenerateRequest greedy(std::vector<int32_t> prompt, int64_t max_tokens) {
  GenerateRequest r = test::tiny_engine()->default_request();
  r.prompt = std::move(prompt);
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0;
  r.stop_ids.clear();  // a random model may sample a stop id at any time
  return r;
}

std::vector<int32_t> encode(const std::string& text) {
  return test::tiny_engine()->tokenizer().encode(text, {.add_bos = true});
}

std::vector<int32_t> concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<int32_t> fresh_tokens(const GenerateRequest& r) {
  return test::tiny_engine()->new_session(256)->generate(r).tokens;
}

TEST(Session, ExtendingTheConversationReusesTheCache) {
  auto session = test::tiny_engine()->new_session(256);
  const auto first =
      encode("The quick brown fox jumps over the lazy dog, and then it rests in the shade of an old tree.");
  ASSERT_GT(first.size(), 16u);  // longer than the sliding window
  GenerateResult a = session->generate(greedy(first, 6));
  ASSERT_EQ(a.tokens.size(), 6u);
  EXPECT_EQ(a.cached_tokens, 0);
  // The next turn: everything so far, then more.
  const auto second = concat(concat(first, a.tokens), encode(" And again?"));
  GenerateResult b = session->generate(greedy(second, 6));
  EXPECT_EQ(b.cached_tokens, static_cast<int64_t>(first.size() + a.tokens.size() - 1));
  EXPECT_EQ(b.tokens, fresh_tokens(greedy(second, 6)));
}

TEST(Session, DivergingPromptBeyondTheWindowStartsOver) {
  auto session = test::tiny_engine()->new_session(256);
  const auto a = encode("One two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen.");
  const auto b = encode("One two three four five six different words follow here and they go on for a while.");
  ASSERT_GT(a.size(), 16u);
  session->generate(greedy(a, 2));
  GenerateResult r = session->generate(greedy(b, 8));
  EXPECT_EQ(r.cached_tokens, 0);  // the rings no longer hold the shared prefix
  EXPECT_EQ(r.tokens, fresh_tokens(greedy(b, 8)));
}

TEST(Session, DivergingPromptWithinTheWindowKeepsThePrefix) {
  auto session = test::tiny_engine()->new_session(256);
  const auto a = encode("Red green blue");
  const auto b = encode("Red green yellow");
  ASSERT_LT(a.size() + 2, 16u);
  session->generate(greedy(a, 2));
  GenerateResult r = session->generate(greedy(b, 8));
  EXPECT_GT(r.cached_tokens, 0);
  EXPECT_EQ(r.tokens, fresh_tokens(greedy(b, 8)));
}

TEST(Session, SamePromptTwiceGivesTheSameAnswer) {
  auto session = test::tiny_engine()->new_session(256);
  GenerateRequest r = greedy(encode("Repeat after me: hello"), 6);
  ASSERT_LT(r.prompt.size() + 6, 16u);  // the whole history fits the sliding window
  r.sampling = {.temperature = 0.8, .top_p = 0.95, .seed = 42};
  const auto once = session->generate(r).tokens;
  GenerateResult twice = session->generate(r);
  EXPECT_EQ(twice.cached_tokens, static_cast<int64_t>(r.prompt.size()) - 1);
  EXPECT_EQ(twice.tokens, once);
}

TEST(Session, PromptScoresAgreeWithGeneratedLogprobs) {
  auto session = test::tiny_engine()->new_session(256);
  GenerateRequest gen = greedy(encode("Scores of a prompt"), 1);
  gen.logprobs = 3;
  GenerateResult g = session->generate(gen);
  ASSERT_EQ(g.logprobs.size(), 1u);
  const TokenLogprob& chosen = g.logprobs[0];
  EXPECT_EQ(chosen.id, g.tokens[0]);
  ASSERT_EQ(chosen.top.size(), 3u);
  EXPECT_EQ(chosen.top[0].first, chosen.id);  // greedy picks the most likely
  EXPECT_EQ(chosen.top[0].second, chosen.logprob);

  GenerateRequest score = greedy(concat(gen.prompt, g.tokens), 0);
  score.prompt_logprobs = 3;
  GenerateResult s = test::tiny_engine()->new_session(256)->generate(score);
  EXPECT_TRUE(s.tokens.empty());
  ASSERT_EQ(s.prompt_logprobs.size(), score.prompt.size() - 1);
  const TokenLogprob& last = s.prompt_logprobs.back();
  EXPECT_EQ(last.id, chosen.id);
  EXPECT_NEAR(last.logprob, chosen.logprob, 1e-4);
  for (const auto& p : s.prompt_logprobs) {
    EXPECT_LE(p.logprob, 0.0f);
    EXPECT_LE(p.logprob, p.top[0].second);
  }
}

TEST(Session, ReusedPromptScoresEqualFreshOnes) {
  const auto context = encode("Question: which is larger, a mouse or an elephant? Answer:");
  auto scored = [](Session& s, std::vector<int32_t> prompt) {
    GenerateRequest r = greedy(std::move(prompt), 1);
    r.prompt_logprobs = 1;
    return s.generate(r);
  };
  auto session = test::tiny_engine()->new_session(256);
  scored(*session, concat(context, encode(" a mouse")));
  GenerateResult reused = scored(*session, concat(context, encode(" an elephant")));
  auto fresh_session = test::tiny_engine()->new_session(256);
  GenerateResult fresh = scored(*fresh_session, concat(context, encode(" an elephant")));
  ASSERT_EQ(reused.prompt_logprobs.size(), fresh.prompt_logprobs.size());
  for (size_t i = 0; i < fresh.prompt_logprobs.size(); ++i) {
    EXPECT_EQ(reused.prompt_logprobs[i].id, fresh.prompt_logprobs[i].id);
    EXPECT_NEAR(reused.prompt_logprobs[i].logprob, fresh.prompt_logprobs[i].logprob, 1e-4) << i;
  }
}

TEST(Session, ScoringAfterPlainGenerationScoresEveryToken) {
  const auto a = encode("Plain generation first, then scoring");
  const auto b = concat(a, encode(" with more words"));
  auto session = test::tiny_engine()->new_session(256);
  session->generate(greedy(a, 3));
  GenerateRequest score = greedy(b, 0);
  score.prompt_logprobs = 2;
  GenerateResult reused = session->generate(score);
  GenerateResult fresh = test::tiny_engine()->new_session(256)->generate(score);
  ASSERT_EQ(reused.prompt_logprobs.size(), b.size() - 1);
  for (size_t i = 0; i < b.size() - 1; ++i) {
    EXPECT_EQ(reused.prompt_logprobs[i].id, b[i + 1]);
    EXPECT_NEAR(reused.prompt_logprobs[i].logprob, fresh.prompt_logprobs[i].logprob, 1e-4) << i;
  }
}

TEST(Session, StopStringEndsTheTextAndStreamsConsistently) {
  auto session = test::tiny_engine()->new_session(256);
  GenerateRequest r = greedy(encode("Tell me a story."), 24);
  const std::string full = session->generate(r).text;
  ASSERT_GT(full.size(), 12u);
  const std::string stop = full.substr(full.size() / 2, 3);
  r.stop_strings = {stop};
  std::string streamed;
  int events = 0;
  GenerateResult cut = session->generate(r, [&](const TokenEvent& e) {
    streamed.append(e.text);
    ++events;
    return true;
  });
  EXPECT_EQ(cut.finish, FinishReason::kStop);
  EXPECT_EQ(cut.text, full.substr(0, full.find(stop)));
  EXPECT_EQ(streamed, cut.text);
  EXPECT_EQ(events, static_cast<int>(cut.tokens.size()));
}

TEST(Session, StopIdEndsTheAnswerWithoutText) {
  auto session = test::tiny_engine()->new_session(256);
  GenerateRequest r = greedy(encode("Stop ids"), 5);
  r.sampling = {.temperature = 1.0, .top_p = 1.0, .seed = 3};  // greedy random models repeat themselves
  const auto tokens = session->generate(r).tokens;
  size_t k = 1;  // the first token that did not occur before
  while (k < tokens.size() && std::find(tokens.begin(), tokens.begin() + k, tokens[k]) != tokens.begin() + k) ++k;
  if (k == tokens.size()) GTEST_SKIP() << "the random model repeats one token";
  r.stop_ids = {tokens[k]};
  GenerateResult g = session->generate(r);
  EXPECT_EQ(g.finish, FinishReason::kStop);
  EXPECT_EQ(g.tokens.size(), k + 1);
  EXPECT_EQ(g.text, test::tiny_engine()->tokenizer().decode(std::span(tokens).first(k)));
}

TEST(Session, CallbackCancels) {
  auto session = test::tiny_engine()->new_session(256);
  int seen = 0;
  GenerateResult g = session->generate(greedy(encode("Cancel me"), 20), [&](const TokenEvent&) { return ++seen < 3; });
  EXPECT_EQ(g.finish, FinishReason::kCancelled);
  EXPECT_EQ(g.tokens.size(), 3u);
  // The session stays usable and its cache consistent.
  EXPECT_EQ(session->generate(greedy(encode("Cancel me"), 4)).tokens, fresh_tokens(greedy(encode("Cancel me"), 4)));
}

TEST(Session, PromptLongerThanTheContextIsAnError) {
  auto session = test::tiny_engine()->new_session(8);
  const auto long_prompt = encode("This prompt is clearly longer than eight tokens in total.");
  EXPECT_THROW(session->generate(greedy(long_prompt, 1)), Error);
  GenerateResult g = session->generate(greedy(encode("Short"), 100));
  EXPECT_EQ(g.finish, FinishReason::kLength);
  EXPECT_EQ(static_cast<int64_t>(g.tokens.size() + encode("Short").size()), 8 + 1);  // the last one is not fed back
}

TEST(Session, InvalidRequestsAreErrors) {
  auto session = test::tiny_engine()->new_session(64);
  EXPECT_THROW(session->generate(greedy({}, 1)), Error);
  EXPECT_THROW(session->generate(greedy({1, 999999}, 1)), Error);
  GenerateRequest r = greedy({1, 2}, 1);
  r.sampling.top_p = 0;
  EXPECT_THROW(session->generate(r), Error);
  r = greedy({1, 2}, 1);
  r.logprobs = 21;
  EXPECT_THROW(session->generate(r), Error);
}

// Allows exactly `script`, then only the stop id.
class Script : public TokenConstraint {
 public:
  Script(std::vector<int32_t> script, int32_t stop) : script_(std::move(script)), stop_(stop) {}
  int64_t mask(std::span<float> logits) override {
    const int32_t allowed = at_ < script_.size() ? script_[at_] : stop_;
    for (size_t i = 0; i < logits.size(); ++i)
      if (static_cast<int32_t>(i) != allowed) logits[i] = -INFINITY;
    return 1;
  }
  void accept(int32_t token) override {
    EXPECT_EQ(token, at_ < script_.size() ? script_[at_] : stop_);
    ++at_;
  }

 private:
  std::vector<int32_t> script_;
  int32_t stop_;
  size_t at_ = 0;
};

TEST(Session, ConstraintDecidesTheTokens) {
  auto session = test::tiny_engine()->new_session(64);
  GenerateRequest r = test::tiny_engine()->default_request();
  r.prompt = encode("Say yes");
  r.max_tokens = 10;
  const auto yes = test::tiny_engine()->tokenizer().encode("yes, sure");
  Script script(yes, r.stop_ids.at(0));
  r.constraint = &script;
  GenerateResult g = session->generate(r);
  EXPECT_EQ(g.text, "yes, sure");
  EXPECT_EQ(g.finish, FinishReason::kStop);
}

TEST(Session, ConcurrentSessionsMatchSequentialOnes) {
  std::vector<GenerateRequest> requests;
  for (const char* text : {"First concurrent prompt", "Second one, a bit longer than the first one is", "Third"})
    requests.push_back(greedy(encode(text), 12));
  std::vector<std::vector<int32_t>> expected, got(requests.size());
  for (const auto& r : requests) expected.push_back(fresh_tokens(r));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < requests.size(); ++i) threads.emplace_back([&, i] { got[i] = fresh_tokens(requests[i]); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace mobilellm
