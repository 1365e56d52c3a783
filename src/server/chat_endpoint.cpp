// POST /v1/chat/completions: the conversation in the chat format, tools,
// constrained JSON output (server/openai_answer.h), whole or streamed.
#include "server/serve_answer.h"

namespace mobilellm::server {

bool handle_chat(ServerState& state, const httplib::Request& http, httplib::Response& res) {
  const ChatRequest request =
      parse_chat_request(parse_request_json(http.body), state.engine->default_request().sampling);
  // Planned before waiting for a slot, so a refused request does not wait.
  return serve_answer(state, http, res, "/v1/chat/completions",
                      std::make_unique<ChatAnswer>(state.answer_context(), request));
}

}  // namespace mobilellm::server
