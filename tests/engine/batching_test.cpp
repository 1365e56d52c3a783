// Continuous batching through the public API: sessions generating on
// different threads share forward steps, and what each one gets does not
// depend on that. The model is test::q4_engine(): prompts take several steps
// and both prompts and answers cross the sliding window of 16.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <unistd.h>

#include "mobilellm/engine.h"
#include "model/random_checkpoint.h"
#include "tiny_engine.h"

namespace mobilellm {
namespace {

namespace fs = std::filesystem;
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

TEST(Batching, PerplexityBesideGeneratingSessionsIsWhatItIsAlone) {
  std::string text;
  for (int i = 0; i < 60; ++i) text += "word " + std::to_string(i * 37 % 101) + ", ";
  const PerplexityChunks chunks = q4_engine()->perplexity_chunks(text, 32, 4);
  const PerplexityResult expected = q4_engine()->perplexity(chunks);
  const auto requests = mixed_requests();
  std::vector<GenerateResult> generated(requests.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < requests.size(); ++i) threads.emplace_back([&, i] { generated[i] = alone(requests[i]); });
  const uint64_t steps_before = q4_engine()->step_stats().steps;
  const PerplexityResult beside = q4_engine()->perplexity(chunks);
  for (auto& t : threads) t.join();
  EXPECT_GT(q4_engine()->step_stats().steps, steps_before);
  EXPECT_EQ(beside.nll, expected.nll);
  EXPECT_EQ(beside.ppl, expected.ppl);
  for (size_t i = 0; i < requests.size(); ++i) expect_same_result(alone(requests[i]), generated[i], i);
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

// The process's anonymous resident memory, as the kernel counts it.
int64_t resident_anonymous_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("RssAnon:", 0) == 0) return std::stoll(line.substr(8)) * 1024;  // "RssAnon:   123 kB"
  ADD_FAILURE() << "no RssAnon in /proc/self/status";
  return 0;
}

// KV caches large enough that the kernel's count of resident memory shows
// them plainly: the tiny pattern (3 full layers of 6) with 20 KV heads of 64,
// float rows (a bf16 checkpoint), 10 KiB per position per full layer, and a
// vocabulary of 512 ids (no tokenizer).
std::shared_ptr<Engine> wide_kv_engine() {
  static std::shared_ptr<Engine> engine = [] {
    const fs::path dir = fs::temp_directory_path() / ("mobilellm-kv-memory-test-" + std::to_string(getpid()));
    fs::remove_all(dir);
    model::ModelConfig c = model::preset_config("tiny");
    c.vocab_size = 512;
    c.num_heads = c.num_kv_heads = 20;
    c.head_dim = 64;
    c.bos_token_id = 1;
    c.eos_token_ids = {2};
    c.pad_token_id = 0;
    model::write_random_checkpoint(c, dir, 11);
    EngineOptions options;
    options.model = dir;
    options.threads = 2;
    options.require_tokenizer = false;
    auto loaded = Engine::load(options);
    fs::remove_all(dir);
    return loaded;
  }();
  return engine;
}

TEST(Batching, KvMemoryGoesBackWhenRequestsAndSessionsEnd) {
  constexpr int kSessions = 4;
  constexpr int64_t kPrompt = 250, kAnswer = 6;
  auto run_together = [](std::vector<std::unique_ptr<Session>>& sessions) {
    std::vector<std::thread> threads;
    for (int i = 0; i < kSessions; ++i)
      threads.emplace_back([&, i] {
        GenerateRequest r = wide_kv_engine()->default_request();
        for (int64_t t = 0; t < kPrompt; ++t) r.prompt.push_back(static_cast<int32_t>(3 + (t * 7 + i * 31) % 500));
        r.max_tokens = kAnswer;
        r.sampling.temperature = 0;
        r.stop_ids.clear();
        const GenerateResult result = sessions[static_cast<size_t>(i)]->generate(r);
        EXPECT_EQ(result.tokens.size(), static_cast<size_t>(kAnswer));
      });
    for (auto& t : threads) t.join();
  };
  auto held = [](const std::vector<std::unique_ptr<Session>>& sessions) {
    int64_t total = 0;
    for (const auto& s : sessions) total += s->cache_bytes();
    return total;
  };
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < kSessions; ++i) sessions.push_back(wide_kv_engine()->new_session(512));
  EXPECT_EQ(held(sessions), 0);  // nothing written yet: address space only

  run_together(sessions);
  const int64_t kv = held(sessions);
  // The last token sampled is not run: prompt + answer - 1 positions, 10 KiB
  // per position in each of 3 full layers, and the rings of 16 filled.
  EXPECT_EQ(kv, kSessions * ((kPrompt + kAnswer - 1) * 3 + 16 * 3) * 20 * 64 * 2 * 4);

  // The requests ended; the sessions live on. One is forgotten (reset), the
  // others start a request that shares no prefix with what they hold, so the
  // cache is cut back: the rows the old request took are given back. The
  // kernel's count falls by them (measured across steps that allocate next to
  // nothing: the growth while generating would also show the allocator's
  // own comings and goings, which the sanitizer build makes large).
  int64_t at = resident_anonymous_bytes();
  sessions[0]->reset();
  for (int i = 1; i < kSessions; ++i) {
    GenerateRequest r = wide_kv_engine()->default_request();
    r.prompt = {static_cast<int32_t>(400 + i)};
    r.max_tokens = 0;
    sessions[static_cast<size_t>(i)]->generate(r);
  }
  const int64_t small = held(sessions);
  EXPECT_LT(small, kv / 50);
  EXPECT_GE(at - resident_anonymous_bytes(), (kv - small) * 9 / 10) << "the cut rows stay resident";

  // Sessions that end give back all of their cache.
  run_together(sessions);
  const int64_t again = held(sessions);
  EXPECT_EQ(again, kv);
  at = resident_anonymous_bytes();
  sessions.clear();
  EXPECT_GE(at - resident_anonymous_bytes(), again * 9 / 10) << "an ended session's cache stays resident";
}

}  // namespace
}  // namespace mobilellm
