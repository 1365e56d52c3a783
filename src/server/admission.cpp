#include "server/api_error.h"
#include "server/server_state.h"

namespace mobilellm::server {

std::optional<Admitted> admit(ServerState& state, const httplib::Request& http, std::span<const int32_t> prompt) {
  Admitted a;
  a.client = state.watch.watch(http.is_connection_closed);
  switch (state.scheduler->acquire(prompt, a.client->gone(), a.lease)) {
    case Scheduler::Admission::kAdmitted: return a;
    case Scheduler::Admission::kAbandoned:
      if (state.watch.shutting_down())
        throw ApiError(503, "service_unavailable", "the server is shutting down", {}, "shutting_down");
      return std::nullopt;
    case Scheduler::Admission::kQueueFull:
      state.metrics.rejected("queue_full");
      throw ApiError(503, "server_overloaded",
                     "all " + std::to_string(state.scheduler->slots()) + " slots are busy and " +
                         std::to_string(state.scheduler->max_queue()) + " requests are waiting; retry later",
                     {}, "queue_full");
  }
  return std::nullopt;
}

int64_t completion_budget(const ServerState& state, int64_t prompt_tokens, std::optional<int64_t> requested,
                          const std::string& prompt_param) {
  const int64_t context = state.context;
  if (prompt_tokens > context)
    throw invalid_request("this model's context length is " + std::to_string(context) + " tokens, but the prompt has " +
                              std::to_string(prompt_tokens) + " tokens; it is not truncated",
                          prompt_param, "context_length_exceeded");
  if (!requested) {
    if (prompt_tokens == context)
      throw invalid_request(
          "the prompt fills the whole context of " + std::to_string(context) + " tokens, leaving none for the answer",
          prompt_param, "context_length_exceeded");
    return context - prompt_tokens;
  }
  if (prompt_tokens + *requested > context)
    throw invalid_request("this model's context length is " + std::to_string(context) + " tokens, but " +
                              std::to_string(prompt_tokens) + " prompt tokens and " + std::to_string(*requested) +
                              " requested tokens make " + std::to_string(prompt_tokens + *requested),
                          "max_tokens", "context_length_exceeded");
  return *requested;
}

void record_generation(ServerState& state, const GenerateResult& result) {
  const int64_t generated = static_cast<int64_t>(result.tokens.size());
  if (result.finish == FinishReason::kCancelled) state.metrics.cancelled();
  state.metrics.generation(result.prompt_tokens, result.cached_tokens, generated, result.prefill_seconds,
                           result.decode_seconds);
}

void record_request(ServerState& state, const std::string& endpoint, int status, double seconds) {
  state.metrics.request(endpoint, status, seconds);
}

}  // namespace mobilellm::server
