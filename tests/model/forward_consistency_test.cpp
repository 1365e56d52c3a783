// The forward pass must not depend on how a sequence is fed: one prefill,
// batches that cut across window and chunk boundaries, and one token at a
// time all give the same logits. (Agreement with transformers itself is the
// golden tests' job; this checks our cache and batching logic.)
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "model/forward.h"
#include "model/random_checkpoint.h"
#include "runtime/error.h"
#include "support/threads_or_skip.h"

namespace mobilellm::model {
namespace {

std::filesystem::path write_variant(const std::string& name, const ModelConfig& config) {
  auto dir = std::filesystem::path(testing::TempDir()) / ("mobilellm_consistency_" + name);
  std::filesystem::remove_all(dir);
  write_random_checkpoint(config, dir, 7);
  return dir;
}

ModelConfig small_vocab(ModelConfig c) {
  c.vocab_size = 300;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  c.pad_token_id = 3;
  c.floor_scale = 8;  // positions past floor_scale exercise the attention temperature
  return c;
}

std::vector<float> logits_fed_in_batches(const Model& model, const std::vector<int32_t>& ids, int64_t batch,
                                         int threads) {
  ThreadPool pool(threads);
  KvCache cache(model.config(), 256);
  Forward forward(model, pool, batch);
  const int64_t vocab = model.config().vocab_size;
  std::vector<float> all(ids.size() * static_cast<size_t>(vocab));
  for (size_t done = 0; done < ids.size();) {
    size_t n = std::min<size_t>(static_cast<size_t>(batch), ids.size() - done);
    forward.run(cache, std::span<const int32_t>(ids.data() + done, n), LogitsFor::kAll, all.data() + done * vocab);
    done += n;
  }
  return all;
}

void expect_close(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  float max_abs = 0, max_diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    max_abs = std::max(max_abs, std::fabs(a[i]));
    max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
  }
  EXPECT_LE(max_diff, 2e-5f * max_abs) << what << ": max diff " << max_diff << " (max |logit| " << max_abs << ")";
}

class ForwardConsistency : public testing::TestWithParam<std::string> {};

ModelConfig variant(const std::string& name) {
  ModelConfig c = small_vocab(preset_config("tiny"));
  if (name == "chunked") {  // Llama-4's default pattern: RoPE layers chunked, no-RoPE layers global
    c.attention_chunk_size = 8;
    for (auto& layer : c.layers) layer.attention = layer.use_rope ? AttentionKind::kChunked : AttentionKind::kFull;
    c.use_qk_norm = false;
  }
  return c;
}

TEST_P(ForwardConsistency, SameLogitsHoweverFed) {
  MOBILELLM_SKIP_WITHOUT_THREADS();
  auto dir = write_variant(GetParam(), variant(GetParam()));
  auto model = Model::load(dir);
  std::vector<int32_t> ids(60);  // more than 3 windows (16) and several chunks (8)
  std::mt19937 rng(3);
  for (auto& id : ids) id = static_cast<int32_t>(rng() % 300);
  auto whole = logits_fed_in_batches(*model, ids, 256, 2);
  expect_close(whole, logits_fed_in_batches(*model, ids, 1, 2), "one token at a time");
  expect_close(whole, logits_fed_in_batches(*model, ids, 7, 1), "batches of 7, one thread");
  expect_close(whole, logits_fed_in_batches(*model, ids, 17, 3), "batches of 17, three threads");
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Variants, ForwardConsistency, testing::Values("pro_pattern", "chunked"));

TEST(KvCache, RewindKeepsOnlyWhatIsStillValid) {
  MOBILELLM_SKIP_WITHOUT_THREADS();
  ModelConfig c = small_vocab(preset_config("tiny"));
  auto dir = write_variant("rewind", c);
  auto model = Model::load(dir);
  ThreadPool pool(2);
  KvCache cache(c, 128);
  Forward forward(*model, pool);
  std::vector<int32_t> ids(40);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i * 7 % 300);
  std::vector<float> last(static_cast<size_t>(c.vocab_size)), again(static_cast<size_t>(c.vocab_size));
  forward.run(cache, ids, LogitsFor::kLast, last.data());
  EXPECT_FALSE(cache.truncate(10));  // the sliding rings (16 slots) no longer hold positions 0..9
  EXPECT_EQ(cache.size(), 40);
  ASSERT_TRUE(cache.truncate(39));  // rewinding one token is always possible
  forward.run(cache, std::span<const int32_t>(ids.data() + 39, 1), LogitsFor::kLast, again.data());
  expect_close(last, again, "re-run of the last token");
  EXPECT_TRUE(cache.truncate(0));
  EXPECT_EQ(cache.size(), 0);
  std::filesystem::remove_all(dir);
}

TEST(Forward, RejectsBadIdsAndContextOverflow) {
  ModelConfig c = small_vocab(preset_config("tiny"));
  auto dir = write_variant("errors", c);
  auto model = Model::load(dir);
  ThreadPool pool(1);
  KvCache cache(c, 4);
  Forward forward(*model, pool);
  std::vector<float> logits(static_cast<size_t>(c.vocab_size));
  std::vector<int32_t> bad = {1, 300};
  EXPECT_THROW(forward.run(cache, bad, LogitsFor::kLast, logits.data()), Error);
  std::vector<int32_t> five = {1, 2, 3, 4, 5};
  try {
    forward.run(cache, five, LogitsFor::kLast, logits.data());
    FAIL() << "no error past the context";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context limit"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mobilellm::model
