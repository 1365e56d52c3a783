// Engine::perplexity: llama-perplexity's computation (docs/PERPLEXITY.md) over
// the engine's forward steps; the arithmetic (chunks, NLL, statistics) is
// eval/'s.
#include "mobilellm/perplexity.h"

#include <algorithm>

#include "engine/engine_impl.h"
#include "eval/perplexity.h"
#include "model/kv_cache.h"
#include "runtime/error.h"
#include "runtime/timer.h"

namespace mobilellm {
namespace {

void check_context(int64_t context, const ModelInfo& info) {
  if (context > info.max_context)
    throw Error("a context of " + std::to_string(context) + " tokens exceeds the model's maximum of " +
                std::to_string(info.max_context));
}

}  // namespace

int64_t PerplexityChunks::first_scored() const { return eval::ChunkPlan{context_, count_}.first_scored(); }
int64_t PerplexityChunks::scored_per_chunk() const { return eval::ChunkPlan{context_, count_}.scored_per_chunk(); }

PerplexityChunks Engine::perplexity_chunks(std::string_view text, int64_t context, int64_t chunks) const {
  const Tokenizer& t = tokenizer();
  std::vector<int32_t> tokens = t.encode(text, {.add_bos = t.default_add_bos(), .lossy_utf8 = true});
  const eval::ChunkPlan plan = eval::plan_chunks(static_cast<int64_t>(tokens.size()), context, chunks);
  check_context(plan.n_ctx, impl_->info);
  PerplexityChunks out;
  out.context_ = plan.n_ctx;
  out.count_ = plan.chunks;
  out.text_tokens_ = static_cast<int64_t>(tokens.size());
  // llama.cpp replaces each chunk's first token by BOS when the model adds one.
  if (t.default_add_bos() && t.bos_id() >= 0)
    for (int64_t i = 0; i < plan.chunks; ++i) tokens[static_cast<size_t>(i * plan.n_ctx)] = t.bos_id();
  tokens.resize(static_cast<size_t>(plan.chunks * plan.n_ctx));
  out.tokens_ = std::move(tokens);
  return out;
}

PerplexityResult Engine::perplexity(const PerplexityChunks& chunks, const PerplexityOptions& options) const {
  const int64_t max_batch = impl_->batcher.prefill_chunk();
  if (options.batch < 0 || options.batch > max_batch)
    throw Error("the perplexity batch must be in 0.." + std::to_string(max_batch) +
                " (the engine's prefill chunk), not " + std::to_string(options.batch));
  const int64_t batch = options.batch == 0 ? max_batch : options.batch;
  const eval::ChunkPlan plan{chunks.context(), chunks.count()};
  if (plan.chunks < 1) throw Error("no chunks to score (PerplexityChunks come from perplexity_chunks)");
  check_context(plan.n_ctx, impl_->info);
  const int64_t vocab = impl_->info.vocab_size;
  model::KvCache cache(impl_->model->config(), plan.n_ctx);
  std::vector<float> logits(static_cast<size_t>(std::min(batch, plan.n_ctx) * vocab));
  PerplexityResult result;
  eval::NllStats stats;
  Timer timer;
  for (int64_t chunk = 0; chunk < plan.chunks; ++chunk) {
    const int32_t* tokens = chunks.tokens().data() + chunk * plan.n_ctx;
    const size_t chunk_start = result.nll.size();
    cache.clear();
    for (int64_t b0 = 0; b0 < plan.n_ctx; b0 += batch) {
      const int64_t n = std::min(batch, plan.n_ctx - b0);
      if (impl_->batcher.run(cache, {tokens + b0, static_cast<size_t>(n)}, model::LogitsFor::kAll, logits.data(),
                             options.cancel) < n) {
        result.cancelled = true;
        break;
      }
      for (int64_t j = std::max(b0, plan.first_scored()); j < std::min(b0 + n, plan.n_ctx - 1); ++j) {
        const float* row = logits.data() + (j - b0) * vocab;
        int32_t top;
        result.nll.push_back(eval::token_nll(row, vocab, tokens[j + 1], &top));
        if (options.on_scored) options.on_scored({row, static_cast<size_t>(vocab)}, tokens[j + 1]);
      }
    }
    if (result.cancelled) {
      result.nll.resize(chunk_start);  // whole chunks only
      break;
    }
    for (size_t i = chunk_start; i < result.nll.size(); ++i) stats.add(result.nll[i]);
    result.running_ppl.push_back(stats.ppl());
    if (options.on_chunk) options.on_chunk({chunk + 1, plan.chunks, stats.ppl(), timer.seconds()});
  }
  result.seconds = timer.seconds();
  if (stats.count() > 0) {
    result.ppl = stats.ppl();
    result.ppl_error = stats.ppl_error();
  }
  return result;
}

}  // namespace mobilellm
