#include <algorithm>
#include <cmath>
#include <optional>

#include "engine/logprobs.h"
#include "engine/session_impl.h"
#include "engine/speculation.h"
#include "engine/stop_strings.h"
#include "model/sampler.h"
#include "runtime/error.h"
#include "runtime/timer.h"

namespace mobilellm {
namespace {

// Prompt tokens per batch when every position's logits are needed (scoring):
// [batch][vocab] floats.
constexpr int64_t kScoreBatch = 16;

model::SamplingParams to_model(const Sampling& s) {
  model::SamplingParams p;
  p.temperature = s.temperature;
  p.top_p = s.top_p;
  p.top_k = s.top_k;
  p.min_p = s.min_p;
  p.repetition_penalty = s.repetition_penalty;
  p.seed = s.seed;
  return p;
}

void validate(const GenerateRequest& r, int64_t context, const model::ModelConfig& config) {
  const int64_t n = static_cast<int64_t>(r.prompt.size());
  if (n == 0) throw Error("the prompt is empty");
  if (n > context)
    throw Error("the prompt has " + std::to_string(n) + " tokens, more than the context length " +
                std::to_string(context));
  config.check_token_ids(r.prompt);
  if (r.max_tokens < 0) throw Error("max_tokens must be ≥ 0");
  for (int n_top : {r.logprobs, r.prompt_logprobs})
    if (n_top < -1 || n_top > engine::kMaxTopLogprobs)
      throw Error("logprobs must be in 0.." + std::to_string(engine::kMaxTopLogprobs));
  if (r.draft_max < 0 || r.draft_max > kMaxDraftTokens)
    throw Error("draft_max must be in 0.." + std::to_string(kMaxDraftTokens));
  model::validate(to_model(r.sampling));
}

}  // namespace

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Session::Impl::Impl(std::shared_ptr<Engine> o, Engine::Impl& e, int64_t context)
    : owner(std::move(o)),
      engine(e),
      cache(engine.model->config(), context),
      logits(static_cast<size_t>(engine.model->config().vocab_size)) {}

bool Session::Impl::run_forward(std::span<const int32_t> tokens, model::LogitsFor which, float* out,
                                const std::atomic<bool>* cancel) {
  const int64_t ran = engine.batcher.run(cache, tokens, which, out, cancel);
  history.insert(history.end(), tokens.begin(), tokens.begin() + ran);
  return ran == static_cast<int64_t>(tokens.size());
}

int64_t Session::Impl::reuse_prefix(const GenerateRequest& r) {
  const auto& prompt = r.prompt;
  const int64_t common =
      std::mismatch(history.begin(), history.end(), prompt.begin(), prompt.end()).first - history.begin();
  int64_t keep = std::min<int64_t>(common, static_cast<int64_t>(prompt.size()) - 1);
  const bool scoring = r.prompt_logprobs >= 0;
  if (scoring) {
    if (scores_top != r.prompt_logprobs) scores.clear();
    scores_top = r.prompt_logprobs;
    // Positions not run again need their scores kept, and a kept score must
    // be of the same next token (scores[i] scores history[i + 1]).
    const int64_t valid = std::min<int64_t>(static_cast<int64_t>(scores.size()), std::max<int64_t>(common - 1, 0));
    keep = std::min(keep, valid);
  }
  // Sliding-window rings cannot rewind far: start over when they lost the prefix.
  if (!cache.truncate(keep)) {
    cache.clear();
    keep = 0;
  }
  history.resize(static_cast<size_t>(keep));
  const int64_t still_valid = scoring ? keep : std::max<int64_t>(keep - 1, 0);
  scores.resize(std::min(scores.size(), static_cast<size_t>(still_valid)));
  return keep;
}

bool Session::Impl::prefill(const GenerateRequest& r, int64_t from, bool need_logits) {
  const int64_t n = static_cast<int64_t>(r.prompt.size());
  const int64_t vocab = engine.model->config().vocab_size;
  const std::span<const int32_t> prompt(r.prompt);
  if (r.prompt_logprobs < 0)
    return run_forward(prompt.subspan(static_cast<size_t>(from)),
                       need_logits ? model::LogitsFor::kLast : model::LogitsFor::kNone, logits.data(), r.cancel);
  chunk_logits.resize(static_cast<size_t>(kScoreBatch * vocab));
  for (int64_t at = from; at < n; at += kScoreBatch) {
    const int64_t len = std::min(kScoreBatch, n - at);
    if (!run_forward(prompt.subspan(at, len), model::LogitsFor::kAll, chunk_logits.data(), r.cancel)) return false;
    for (int64_t t = 0; t < len; ++t) {
      const std::span<const float> row(chunk_logits.data() + t * vocab, static_cast<size_t>(vocab));
      const int64_t pos = at + t;
      if (pos + 1 < n)
        scores.push_back(engine::score_token(row, prompt[pos + 1], r.prompt_logprobs));
      else
        std::copy(row.begin(), row.end(), logits.begin());
    }
    if (r.cancel && r.cancel->load()) return false;
  }
  return true;
}

engine::DraftModel& Session::Impl::draft_model() {
  if (!draft) {
    Engine& model = *engine.draft;
    draft = std::make_unique<engine::DraftModel>(model, std::min(cache.max_context(), model.info().max_context));
  }
  return *draft;
}

void Session::Impl::forget_from(int64_t length) {
  if (!cache.truncate(length)) throw Error("internal: the KV cache cannot return to " + std::to_string(length));
  history.resize(static_cast<size_t>(length));
}

bool Session::Impl::decode(int32_t token, int64_t remaining, engine::DraftBudget& budget, engine::Proposer& proposer,
                           std::span<const int32_t> seen, std::vector<int32_t>& drafts, int64_t& base,
                           const std::atomic<bool>* cancel) {
  // Drafts past the answer's budget, the context, one step's chunk or what a
  // ring can take back are never used.
  const int64_t room = std::min({remaining, cache.max_context() - cache.size() - 1, engine.batcher.prefill_chunk() - 1,
                                 cache.rollback_limit() - 1});
  const int64_t most = std::min(room, budget.next());
  if (most > 0) drafts = proposer.propose(seen, most);
  if (drafts.empty()) {
    const int32_t one[1] = {token};
    return run_forward(one, model::LogitsFor::kLast, logits.data(), cancel);
  }
  std::vector<int32_t> pass{token};
  pass.insert(pass.end(), drafts.begin(), drafts.end());
  draft_logits.resize(pass.size() * logits.size());
  base = cache.size();
  cache.keep_for_rollback(static_cast<int64_t>(pass.size()));
  if (run_forward(pass, model::LogitsFor::kAll, draft_logits.data(), cancel)) return true;
  drafts.clear();  // cancelled: the history holds what ran
  return false;
}

GenerateResult Session::generate(const GenerateRequest& r, const TokenCallback& on_token) {
  Impl& s = *impl_;
  const std::optional<Tokenizer>& tokenizer = s.engine.tokenizer;  // none: tokens add no text
  validate(r, s.cache.max_context(), s.engine.model->config());
  auto cancelled = [&] { return r.cancel && r.cancel->load(); };

  GenerateResult result;
  result.prompt_tokens = static_cast<int64_t>(r.prompt.size());
  Timer timer;
  engine::StepBatcher::Member generating(s.engine.batcher);
  bool complete = false;
  try {
    result.cached_tokens = s.reuse_prefix(r);
    complete = s.prefill(r, result.cached_tokens, r.max_tokens > 0);
  } catch (...) {
    // A failed pass leaves the cache in an unknown state.
    reset();
    throw;
  }
  if (!complete || cancelled()) {
    result.finish = FinishReason::kCancelled;
    return result;
  }
  if (r.prompt_logprobs >= 0)
    result.prompt_logprobs.assign(s.scores.begin(), s.scores.begin() + static_cast<ptrdiff_t>(r.prompt.size() - 1));
  result.prefill_seconds = timer.seconds();
  timer.reset();

  model::Sampler sampler(to_model(r.sampling));
  std::optional<StreamDecoder> decoder;
  if (tokenizer) decoder.emplace(*tokenizer);
  engine::StopStrings stops(r.stop_strings);
  std::vector<int32_t> seen(r.prompt);  // what the repetition penalty looks at
  std::vector<float> raw;
  const int64_t vocab = s.engine.model->config().vocab_size;
  // Speculation: the pass that ran [token, drafts…] from cache length `base`
  // left row j of `s.draft_logits` after token, draft 1, … draft j; draft j + 1
  // is checked against row j, and the row after the last draft is sampled as
  // usual.
  engine::PromptLookup lookup;
  engine::Proposer& proposer =
      s.engine.draft && r.draft_max > 0 ? s.draft_model() : static_cast<engine::Proposer&>(lookup);
  engine::DraftBudget budget(r.draft_max);
  std::vector<int32_t> drafts;
  size_t checked = 0;
  int64_t base = 0;
  auto forget_drafts = [&] {
    if (drafts.empty()) return;
    budget.verified(static_cast<int64_t>(drafts.size()), static_cast<int64_t>(checked));
    s.forget_from(base + 1 + static_cast<int64_t>(checked));
    drafts.clear();
    checked = 0;
  };
  result.finish = FinishReason::kLength;
  for (int64_t i = 0; i < r.max_tokens; ++i) {
    if (cancelled()) {
      result.finish = FinishReason::kCancelled;
      break;
    }
    const std::span<float> logits =
        drafts.empty() ? std::span<float>(s.logits)
                       : std::span<float>(s.draft_logits)
                             .subspan(checked * static_cast<size_t>(vocab), static_cast<size_t>(vocab));
    if (r.logprobs >= 0) raw.assign(logits.begin(), logits.end());  // the sampler and the constraint modify them
    if (r.constraint && r.constraint->mask(logits) == 0) {
      result.finish = FinishReason::kStop;  // nothing may follow: the constrained text is complete
      break;
    }
    const bool checking = checked < drafts.size();
    const int32_t token =
        checking ? sampler.sample_or_accept(logits, seen, drafts[checked]) : sampler.sample(logits, seen);
    const bool accepted = checking && token == drafts[checked];
    if (accepted) {
      ++checked;
      ++result.accepted_tokens;
    } else {
      forget_drafts();  // the rejected ones, or none: the next pass runs `token`
    }
    if (r.constraint) r.constraint->accept(token);
    seen.push_back(token);
    result.tokens.push_back(token);
    if (r.logprobs >= 0) result.logprobs.push_back(engine::score_token(raw, token, r.logprobs));

    const bool is_stop = std::find(r.stop_ids.begin(), r.stop_ids.end(), token) != r.stop_ids.end();
    std::string text;
    if (decoder && !is_stop && !(r.skip_special && tokenizer->is_special(token)))
      text = stops.push(decoder->push(token));
    const int64_t position = static_cast<int64_t>(r.prompt.size()) + i;  // where `token` would run
    bool last = is_stop || stops.matched() || i + 1 == r.max_tokens || position >= s.cache.max_context();
    if (last) {
      if (decoder && !stops.matched()) text += stops.push(decoder->flush());
      text += stops.flush();
      result.finish = is_stop || stops.matched() ? FinishReason::kStop : FinishReason::kLength;
    }
    result.text += text;
    if (on_token) {
      TokenEvent event{token, text, r.logprobs >= 0 ? &result.logprobs.back() : nullptr, last};
      if (!on_token(event)) {
        result.finish = FinishReason::kCancelled;
        break;
      }
    }
    if (last) break;
    if (accepted) continue;  // its row is already there
    try {
      if (!s.decode(token, r.max_tokens - i - 1, budget, proposer, seen, drafts, base, r.cancel)) {
        result.finish = FinishReason::kCancelled;
        break;
      }
    } catch (...) {
      reset();
      throw;
    }
    ++result.decode_passes;
  }
  forget_drafts();  // drafts the answer ended before
  result.draft_tokens = budget.proposed();
  result.decode_seconds = timer.seconds();
  return result;
}

std::vector<float> Session::logits(std::span<const int32_t> ids) {
  Impl& s = *impl_;
  const int64_t vocab = s.engine.model->config().vocab_size;
  GenerateRequest checked;
  checked.prompt.assign(ids.begin(), ids.end());
  checked.max_tokens = 0;
  validate(checked, s.cache.max_context(), s.engine.model->config());
  reset();
  std::vector<float> out(ids.size() * static_cast<size_t>(vocab));
  try {
    s.run_forward(ids, model::LogitsFor::kAll, out.data(), nullptr);
  } catch (...) {
    reset();
    throw;
  }
  return out;
}

void Session::reset() {
  impl_->cache.clear();
  impl_->history.clear();
  impl_->scores.clear();
}

const std::vector<int32_t>& Session::tokens() const { return impl_->history; }
int64_t Session::context() const { return impl_->cache.max_context(); }
int64_t Session::cache_bytes() const { return impl_->cache.bytes(); }

}  // namespace mobilellm
