// Constrained decoding over the real 202k vocabulary: random walks through
// the allowed tokens always spell JSON of the schema's shape.
#include "chat/grammar_constraint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "chat/json_schema_grammar.h"
#include "runtime/timer.h"

namespace mobilellm::chat {
namespace {

const Tokenizer& tokenizer() {
  static const Tokenizer t = Tokenizer::load(MOBILELLM_TOKENIZER_DIR);
  return t;
}

const SortedVocab& vocab() {
  static const SortedVocab v(tokenizer());
  return v;
}

constexpr int32_t kStop = 200008;  // <|eot|>

// Picks allowed tokens at random until the constraint lets it stop (then
// stops with probability 1/2) or `limit` tokens; returns the text and whether
// it ended with the stop token.
std::pair<std::string, bool> walk(Grammar grammar, uint64_t seed, int limit = 250) {
  GrammarConstraint c(std::move(grammar), vocab(), {kStop});
  std::mt19937_64 rng(seed);
  std::vector<float> logits(static_cast<size_t>(tokenizer().vocab_size()));
  std::string text;
  for (int step = 0; step < limit; ++step) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    const int64_t allowed = c.mask(logits);
    EXPECT_GT(allowed, 0);
    if (std::isfinite(logits[kStop]) && rng() % 2 == 0) return {text, true};
    std::vector<int32_t> ids;
    for (size_t i = 0; i < logits.size(); ++i)
      if (std::isfinite(logits[i]) && static_cast<int32_t>(i) != kStop) ids.push_back(static_cast<int32_t>(i));
    if (ids.empty()) return {text, std::isfinite(logits[kStop])};
    // Favour short tokens that close things, so walks finish: half the time
    // pick among the allowed single-byte tokens.
    std::vector<int32_t> short_ids;
    for (int32_t id : ids)
      if (tokenizer().token_bytes(id).size() == 1) short_ids.push_back(id);
    const auto& pool = !short_ids.empty() && rng() % 2 == 0 ? short_ids : ids;
    const int32_t token = pool[rng() % pool.size()];
    c.accept(token);
    text += tokenizer().token_bytes(token);
  }
  return {text, false};
}

TEST(GrammarConstraint, SortedVocabExcludesSpecials) {
  EXPECT_EQ(vocab().size(), 200000u);
  for (size_t i = 1; i < 1000; ++i) EXPECT_LT(vocab().bytes(i - 1), vocab().bytes(i));
}

TEST(GrammarConstraint, WalksSpellValidJsonObjects) {
  int finished = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    auto [text, stopped] = walk(json_object_grammar(), seed);
    if (!stopped) continue;
    ++finished;
    const Json j = Json::parse(text, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << text;
    EXPECT_TRUE(j.is_object()) << text;
  }
  EXPECT_GT(finished, 0);
}

TEST(GrammarConstraint, WalksFollowTheSchema) {
  const Json schema = Json::parse(R"({"type": "object",
      "properties": {"city": {"type": "string", "maxLength": 6}, "days": {"type": "integer"},
                     "unit": {"enum": ["celsius", "fahrenheit"]}},
      "required": ["city", "unit"]})");
  int finished = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    auto [text, stopped] = walk(json_schema_grammar(schema), seed);
    if (!stopped) continue;
    ++finished;
    const Json j = Json::parse(text, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << text;
    ASSERT_TRUE(j.is_object()) << text;
    ASSERT_TRUE(j["city"].is_string()) << text;
    EXPECT_LE(j["city"].get<std::string>().size(), 6u * 4) << text;  // 6 characters
    EXPECT_TRUE(j["unit"] == "celsius" || j["unit"] == "fahrenheit") << text;
    if (j.contains("days")) {
      EXPECT_TRUE(j["days"].is_number_integer()) << text;
    }
    for (const auto& [key, value] : j.items()) EXPECT_TRUE(key == "city" || key == "days" || key == "unit") << text;
  }
  EXPECT_GT(finished, 0);
}

TEST(GrammarConstraint, MaskCostIsBoundedPerState) {
  GrammarConstraint c(json_object_grammar(), vocab(), {kStop});
  std::vector<float> logits(static_cast<size_t>(tokenizer().vocab_size()));
  Timer first;
  c.mask(logits);
  const double cold = first.seconds();
  // The fastest of ten cached calls: a busy machine only ever adds time, so
  // the minimum is the one figure another process cannot push above `cold`.
  double warm = cold;
  for (int i = 0; i < 10; ++i) {
    Timer again;
    c.mask(logits);
    warm = std::min(warm, again.seconds());
  }
  std::printf("mask: first %.1f ms, cached %.2f ms (fastest of 10)\n", cold * 1e3, warm * 1e3);
  EXPECT_LT(warm, cold);
}

}  // namespace
}  // namespace mobilellm::chat
