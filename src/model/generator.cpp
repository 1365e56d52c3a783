#include "model/generator.h"

#include <algorithm>

#include "runtime/timer.h"

namespace mobilellm::model {

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kStopToken: return "stop";
    case StopReason::kLength: return "length";
    case StopReason::kContextFull: return "context_full";
    case StopReason::kCancelled: return "cancelled";
  }
  return "?";
}

GenerateStats generate(Forward& forward, KvCache& cache, std::span<const int32_t> prompt, const GenerateOptions& options,
                       const std::function<bool(int32_t)>& on_token) {
  GenerateStats stats;
  stats.prompt_tokens = static_cast<int64_t>(prompt.size());
  const int64_t vocab = forward.vocab_size();
  std::vector<float> logits(static_cast<size_t>(vocab));
  std::vector<int32_t> history(prompt.begin(), prompt.end());
  Sampler sampler(options.sampling);

  Timer timer;
  forward.run(cache, prompt, LogitsFor::kLast, logits.data());
  stats.prefill_seconds = timer.seconds();
  timer.reset();
  for (;;) {
    if (stats.generated_tokens >= options.max_new_tokens) {
      stats.reason = StopReason::kLength;
      break;
    }
    const int32_t token = sampler.sample(logits, history);
    ++stats.generated_tokens;
    history.push_back(token);
    const bool stop = std::find(options.stop_ids.begin(), options.stop_ids.end(), token) != options.stop_ids.end();
    if (!on_token(token)) {
      stats.reason = StopReason::kCancelled;
      break;
    }
    if (stop) {
      stats.reason = StopReason::kStopToken;
      break;
    }
    if (stats.generated_tokens >= options.max_new_tokens) {
      stats.reason = StopReason::kLength;
      break;
    }
    if (cache.size() >= cache.max_context()) {
      stats.reason = StopReason::kContextFull;
      break;
    }
    const int32_t next[1] = {token};
    forward.run(cache, next, LogitsFor::kLast, logits.data());
  }
  stats.decode_seconds = timer.seconds();
  return stats;
}

}  // namespace mobilellm::model
