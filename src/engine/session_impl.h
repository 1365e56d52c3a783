#pragma once
// What a Session holds: its KV cache, the tokens in it, and the prompt scores
// that can be reused with them.
#include <memory>
#include <vector>

#include "engine/engine_impl.h"
#include "engine/speculation.h"
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
  // Runs the sampled `token`, with the tokens `proposer` guesses follow
  // `seen` when the budget allows (at most `remaining`, the answer's tokens
  // still to come): then `drafts` holds them, `draft_logits` the pass's rows
  // and `base` the cache length before it; else `logits` gets the token's
  // logits. Returns false when cancelled.
  bool decode(int32_t token, int64_t remaining, engine::DraftBudget& budget, engine::Proposer& proposer,
              std::span<const int32_t> seen, std::vector<int32_t>& drafts, int64_t& base,
              const std::atomic<bool>* cancel);
  // Forgets the cache from `length` on (rejected drafts); throws Error if the cache cannot.
  void forget_from(int64_t length);
  // The engine's draft model's proposer for this session, made on first use.
  engine::DraftModel& draft_model();

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
  std::vector<float> draft_logits;  // [1 + drafts][vocab], of a speculative pass
  std::unique_ptr<engine::DraftModel> draft;
};

}  // namespace mobilellm
