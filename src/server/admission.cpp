#include <algorithm>

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

void record_generation(ServerState& state, const GenerateResult& result) {
  const int64_t generated = static_cast<int64_t>(result.tokens.size());
  if (result.finish == FinishReason::kCancelled) state.metrics.cancelled();
  state.metrics.generation(result.prompt_tokens, result.cached_tokens, generated, result.prefill_seconds,
                           result.decode_seconds);
  state.metrics.speculation(result.draft_tokens, result.accepted_tokens, result.decode_passes,
                            std::max<int64_t>(generated - 1, 0));
}

void record_request(ServerState& state, const std::string& endpoint, int status, double seconds) {
  state.metrics.request(endpoint, status, seconds);
}

}  // namespace mobilellm::server
