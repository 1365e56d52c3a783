#pragma once
// What a Session holds: its KV cache, the tokens in it, and the prompt scores
// that can be reused with them.
#include <memory>
#include <vector>

#include "engine/engine_impl.h"
#include "model/forward.h"
#include "model/kv_cache.h"

namespace mobilellm {

struct Session::Impl {
  Impl(std::shared_ptr<Engine> owner, Engine::Impl& engine, int64_t context);

  // Keeps the cache of the longest prefix shared with `request.prompt` that
  // is still valid (and whose scores exist when the prompt is to be scored);
  // returns its length. At least the last prompt token is always run again:
  // its logits are needed.
  int64_t reuse_prefix(const GenerateRequest& request);
  // Runs prompt[from:], scoring it when asked; leaves the logits of the last
  // prompt token in `logits` (when `need_logits`). Returns false when
  // cancelled.
  bool prefill(const GenerateRequest& request, int64_t from, bool need_logits);
  // Runs tokens through the engine's steps; false when cancelled before all ran.
  bool run_forward(std::span<const int32_t> tokens, model::LogitsFor which, float* out,
                   const std::atomic<bool>* cancel);

  std::shared_ptr<Engine> owner;  // keeps the weights alive
  Engine::Impl& engine;
  model::KvCache cache;
  std::vector<int32_t> history;  // the tokens in `cache`
  // scores[i] scores history[i + 1] with `scores_top` alternatives; valid for a
  // prefix of the history.
  std::vector<TokenLogprob> scores;
  int scores_top = -1;
  std::vector<float> logits;        // [vocab]
  std::vector<float> chunk_logits;  // [chunk][vocab], for scoring
};

}  // namespace mobilellm
