// Engine::perplexity on a tiny random checkpoint: each scored NLL is the
// log-softmax of the logits Session::logits gives for the chunk (the second
// half of each chunk, predicting the next token), the statistics follow from
// them, cancelling keeps whole chunks, and bad input is an Error. Beside
// generating sessions: batching_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>

#include "tiny_engine.h"

namespace mobilellm {
namespace {

std::string text_of_words(int n) {
  static const char* words[] = {"river", "stone", "light", "quiet", "north", "garden", "window", "paper", "seven"};
  std::string text;
  for (int i = 0; i < n; ++i) text += std::string(words[(i * 7 + i / 3) % 9]) + (i % 11 == 10 ? ". " : " ");
  return text;
}

TEST(Perplexity, NllIsTheLogSoftmaxOfTheChunksLogits) {
  auto engine = test::tiny_engine();
  const int64_t context = 32;
  const PerplexityChunks chunks = engine->perplexity_chunks(text_of_words(200), context, 3);
  ASSERT_EQ(chunks.count(), 3);
  ASSERT_EQ(chunks.context(), context);
  ASSERT_EQ(chunks.scored_per_chunk(), context - 1 - context / 2);
  ASSERT_EQ(static_cast<int64_t>(chunks.tokens().size()), 3 * context);
  int64_t chunk_calls = 0, scored_calls = 0;
  PerplexityOptions options;
  options.on_chunk = [&](const PerplexityProgress& p) { EXPECT_EQ(p.chunks_done, ++chunk_calls); };
  options.on_scored = [&](std::span<const float>, int32_t) { ++scored_calls; };
  const PerplexityResult r = engine->perplexity(chunks, options);
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(chunk_calls, 3);
  ASSERT_EQ(scored_calls, 3 * chunks.scored_per_chunk());
  ASSERT_EQ(static_cast<int64_t>(r.nll.size()), scored_calls);

  auto session = engine->new_session(context);
  const int64_t vocab = engine->info().vocab_size;
  double sum = 0, sum2 = 0;
  size_t k = 0;
  for (int64_t c = 0; c < 3; ++c) {
    const auto tokens = chunks.tokens().subspan(static_cast<size_t>(c * context), static_cast<size_t>(context));
    const std::vector<float> logits = session->logits(tokens);
    for (int64_t j = chunks.first_scored(); j < context - 1; ++j, ++k) {
      const float* row = logits.data() + j * vocab;
      double total = 0;
      for (int64_t v = 0; v < vocab; ++v) total += std::exp(static_cast<double>(row[v]));
      const double nll = std::log(total) - row[tokens[static_cast<size_t>(j + 1)]];
      EXPECT_NEAR(r.nll[k], nll, 1e-9 * std::max(1.0, nll)) << "chunk " << c << " position " << j;
      sum += nll;
      sum2 += nll * nll;
    }
  }
  const double n = static_cast<double>(k), mean = sum / n;
  EXPECT_NEAR(r.ppl, std::exp(mean), 1e-9 * r.ppl);
  EXPECT_NEAR(r.ppl_error, std::exp(mean) * std::sqrt((sum2 / n - mean * mean) / (n - 1)), 1e-6 * r.ppl_error);
  ASSERT_EQ(r.running_ppl.size(), 3u);
  EXPECT_EQ(r.running_ppl.back(), r.ppl);
}

TEST(Perplexity, CancellingKeepsWholeChunks) {
  auto engine = test::tiny_engine();
  const PerplexityChunks chunks = engine->perplexity_chunks(text_of_words(200), 32);
  ASSERT_GE(chunks.count(), 3);
  std::atomic<bool> cancel{false};
  PerplexityOptions options;
  options.batch = 8;
  options.cancel = &cancel;
  int64_t scored = 0;
  // Cancelled in the middle of the second chunk.
  options.on_scored = [&](std::span<const float>, int32_t) {
    if (++scored == chunks.scored_per_chunk() + 3) cancel = true;
  };
  const PerplexityResult r = engine->perplexity(chunks, options);
  EXPECT_TRUE(r.cancelled);
  ASSERT_EQ(r.running_ppl.size(), 1u);
  EXPECT_EQ(static_cast<int64_t>(r.nll.size()), chunks.scored_per_chunk());
  EXPECT_EQ(r.ppl, r.running_ppl[0]);
}

TEST(Perplexity, BadInputIsAnError) {
  auto engine = test::tiny_engine();
  const std::string text = text_of_words(200);
  EXPECT_THROW(engine->perplexity_chunks("too short", 32), Error);
  EXPECT_THROW(engine->perplexity_chunks(text, 3), Error);
  EXPECT_THROW(engine->perplexity_chunks(text, 32, 0), Error);
  EXPECT_THROW(engine->perplexity_chunks(text, 32, -2), Error);
  const int64_t too_long = engine->info().max_context + 1;
  try {
    engine->perplexity_chunks(text_of_words(static_cast<int>(2 * too_long)), too_long);
    ADD_FAILURE() << "a context over the model's maximum was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the model's maximum"), std::string::npos) << e.what();
  }
  const PerplexityChunks chunks = engine->perplexity_chunks(text, 32, 1);
  EXPECT_THROW(engine->perplexity(chunks, {.batch = engine->prefill_chunk() + 1}), Error);
  EXPECT_THROW(engine->perplexity(chunks, {.batch = -1}), Error);
  EXPECT_THROW(engine->perplexity(PerplexityChunks()), Error);
  try {
    engine->perplexity_chunks("too short", 32);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("perplexity with a context of 32 needs at least 64"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mobilellm
