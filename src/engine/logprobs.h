#pragma once
// Log-probabilities of tokens under a row of logits (log-softmax), with the
// most likely alternatives, as the OpenAI API reports them.
#include <cstdint>
#include <span>

#include "mobilellm/engine.h"

namespace mobilellm::engine {

// The most alternatives a request may ask for (OpenAI's own limit is 20).
constexpr int kMaxTopLogprobs = 20;

// logprob of `id` and the `top_n` most likely tokens (ties: lower id first).
TokenLogprob score_token(std::span<const float> logits, int32_t id, int top_n);

}  // namespace mobilellm::engine
