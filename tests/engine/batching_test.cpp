// Continuous batching through the public API: sessions generating on
// different threads share forward steps, and what each one gets does not
// depend on that. The model is test::q4_engine(): prompts take several steps
// and both prompts and answers cross the sliding window of 16.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "mobilellm/engine.h"
#include "tiny_engine.h"

namespace mobilellm {
namespace {

using test::q4_engine;

GenerateRequest request(const std::string& text, int64_t max_tokens, double temperature, uint64_t seed) {
  GenerateRequest r = q4_engine()->default_request();
  r.prompt = q4_engine()->tokenizer().encode(text, {.add_bos = true});
  r.max_tokens = max_tokens;
  r.sampling = {.temperature = temperature, .top_p = 0.9, .seed = seed};
  r.stop_ids.clear();  // a random model may sample a stop id at any time
  return r;
}

// Different lengths (prompts from 3 to over 40 tokens, answers of 2 to 40),
// greedy and sampled, with and without logprobs.
std::vector<GenerateRequest> mixed_requests() {
  std::vector<GenerateRequest> rs;
  rs.push_back(request("Hi", 40, 0, 0));
  rs.push_back(
      request("A much longer prompt that goes on and on, well past the sliding window of sixteen "
              "tokens, so that its chunks cross it more than once before the answer starts.",
              24, 0, 0));
  rs.push_back(request("Sampled with a seed, please", 30, 0.8, 42));
  rs.push_back(request("Short answer", 2, 0, 0));
  rs.push_back(request("Another sampled one, with a different seed and a prompt of medium size", 20, 1.0, 7));
  rs.push_back(request("Scores too", 12, 0, 0));
  rs.back().logprobs = 3;
  rs.back().prompt_logprobs = 2;
  rs.push_back(request("Twenty-one tokens of prompt are what this one has, more or less, give or take", 33, 0, 0));
  rs.push_back(request("Last", 17, 0.7, 3));
  return rs;
}

GenerateResult alone(const GenerateRequest& r) { return q4_engine()->new_session(256)->generate(r); }

void expect_same_result(const GenerateResult& a, const GenerateResult& b, size_t i) {
  EXPECT_EQ(a.tokens, b.tokens) << "request " << i;
  EXPECT_EQ(a.text, b.text) << "request " << i;
  EXPECT_EQ(a.finish, b.finish) << "request " << i;
  ASSERT_EQ(a.logprobs.size(), b.logprobs.size()) << "request " << i;
  for (size_t t = 0; t < a.logprobs.size(); ++t) {
    EXPECT_EQ(a.logprobs[t].logprob, b.logprobs[t].logprob) << "request " << i << " token " << t;
    EXPECT_EQ(a.logprobs[t].top, b.logprobs[t].top) << "request " << i << " token " << t;
  }
  ASSERT_EQ(a.prompt_logprobs.size(), b.prompt_logprobs.size()) << "request " << i;
  for (size_t t = 0; t < a.prompt_logprobs.size(); ++t)
    EXPECT_EQ(a.prompt_logprobs[t].logprob, b.prompt_logprobs[t].logprob) << "request " << i << " position " << t;
}

TEST(Batching, EachRequestGetsWhatItGetsAlone) {
  const auto requests = mixed_requests();
  std::vector<GenerateResult> expected;
  for (const auto& r : requests) expected.push_back(alone(r));
  const StepStats before = q4_engine()->step_stats();
  std::vector<GenerateResult> got(requests.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < requests.size(); ++i) threads.emplace_back([&, i] { got[i] = alone(requests[i]); });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < requests.size(); ++i) expect_same_result(expected[i], got[i], i);
  // They ran together: steps carried several sessions on average.
  const StepStats after = q4_engine()->step_stats();
  const double mean = static_cast<double>(after.sequences - before.sequences) / (after.steps - before.steps);
  std::printf("%.2f sessions per step over %llu steps\n", mean,
              static_cast<unsigned long long>(after.steps - before.steps));
  EXPECT_GT(mean, 2.0);
  // Prompt chunks of at most 8 tokens beside at most one token per session.
  EXPECT_LE(after.last_tokens, 8 + static_cast<int64_t>(requests.size()));
}

TEST(Batching, CancellingOneRequestLeavesTheOthersUntouched) {
  const auto requests = mixed_requests();
  std::vector<GenerateResult> expected;
  for (const auto& r : requests) expected.push_back(alone(r));
  std::vector<GenerateResult> got(requests.size());
  std::atomic<bool> cancel_prefill{false};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < requests.size(); ++i)
    threads.emplace_back([&, i] {
      GenerateRequest r = requests[i];
      if (i == 0) {  // the client goes away after 3 tokens
        int seen = 0;
        got[i] = q4_engine()->new_session(256)->generate(r, [&](const TokenEvent&) { return ++seen < 3; });
      } else if (i == 1) {  // cancelled from another thread in the middle of its long prompt
        r.cancel = &cancel_prefill;
        got[i] = q4_engine()->new_session(256)->generate(r, [&](const TokenEvent&) { return true; });
      } else {
        got[i] = alone(r);
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  cancel_prefill = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(got[0].finish, FinishReason::kCancelled);
  EXPECT_EQ(got[0].tokens.size(), 3u);
  EXPECT_EQ(std::vector<int32_t>(expected[0].tokens.begin(), expected[0].tokens.begin() + 3), got[0].tokens);
  EXPECT_EQ(got[1].finish, FinishReason::kCancelled);
  EXPECT_LT(got[1].tokens.size(), expected[1].tokens.size());
  for (size_t i = 2; i < requests.size(); ++i) expect_same_result(expected[i], got[i], i);
}

TEST(Batching, StreamsKeepReceivingTokensWhileALongPromptIsRead) {
  // A decodes; after its 5th token B arrives with a prompt of 5+ chunks. A's
  // tokens keep coming between B's chunks, before B's first token.
  GenerateRequest a = request("Keep talking", 60, 0, 0);
  std::string long_text;
  for (int i = 0; i < 8; ++i) long_text += "Every sentence here adds a few more tokens to the prompt. ";
  GenerateRequest b = request(long_text, 2, 0, 0);
  ASSERT_GT(b.prompt.size(), 40u);
  std::atomic<int> a_tokens{0};
  std::atomic<bool> b_go{false};
  int a_tokens_at_b_first = -1;
  std::thread ta([&] {
    q4_engine()->new_session(256)->generate(a, [&](const TokenEvent&) {
      if (++a_tokens == 5) b_go = true;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      return true;
    });
  });
  std::thread tb([&] {
    while (!b_go) std::this_thread::sleep_for(std::chrono::microseconds(100));
    q4_engine()->new_session(256)->generate(b, [&](const TokenEvent&) {
      if (a_tokens_at_b_first < 0) a_tokens_at_b_first = a_tokens.load();
      return true;
    });
  });
  ta.join();
  tb.join();
  // B's prompt is ≥ 6 chunks of 8; A gets a token in (nearly) every one of those steps.
  EXPECT_GE(a_tokens_at_b_first, 5 + 4);
}

}  // namespace
}  // namespace mobilellm
