#pragma once
// The generation loop shared by `run`, `chat` and the server: prefill the
// prompt, then sample one token at a time until a stop id, the token budget,
// the context limit, or the caller says stop.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "model/forward.h"
#include "model/sampler.h"

namespace mobilellm::model {

enum class StopReason { kStopToken, kLength, kContextFull, kCancelled };
const char* stop_reason_name(StopReason reason);

struct GenerateOptions {
  int64_t max_new_tokens = 256;
  SamplingParams sampling;
  std::vector<int32_t> stop_ids;
};

struct GenerateStats {
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  StopReason reason = StopReason::kLength;
};

// on_token sees each new token (stop tokens included); returning false cancels.
// The prompt is appended to `cache` after what it already holds.
GenerateStats generate(Forward& forward, KvCache& cache, std::span<const int32_t> prompt, const GenerateOptions& options,
                       const std::function<bool(int32_t)>& on_token);

}  // namespace mobilellm::model
