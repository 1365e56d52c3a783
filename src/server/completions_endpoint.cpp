// POST /v1/completions: raw prompts (text or token ids), echo with prompt
// logprobs in the legacy schema (what lm-eval's loglikelihood reads).
#include "server/serve_answer.h"

namespace mobilellm::server {

bool handle_completions(ServerState& state, const httplib::Request& http, httplib::Response& res) {
  const Engine& engine = *state.engine;
  CompletionRequest request = parse_completion_request(parse_request_json(http.body), engine.default_request().sampling,
                                                       engine.info().vocab_size);
  return serve_answer(state, http, res, "/v1/completions",
                      std::make_unique<CompletionAnswer>(state.answer_context(), std::move(request)));
}

}  // namespace mobilellm::server
