#pragma once
// Serving one answer of a generating endpoint (a ChatAnswer or a
// CompletionAnswer, server/openai_answer.h): wait for a slot, then answer
// whole or stream it over SSE.
#include <memory>

#include "runtime/timer.h"
#include "server/openai_answer.h"
#include "server/server_state.h"

namespace mobilellm::server {

// Returns true when the answer is streamed (as the handle_* functions do).
template <typename Answer>
bool serve_answer(ServerState& state, const httplib::Request& http, httplib::Response& res, const char* endpoint,
                  std::unique_ptr<Answer> answer) {
  std::optional<Admitted> admitted = admit(state, http, answer->prompt());
  if (!admitted) {
    res.status = 499;  // the client closed the connection while waiting
    return false;
  }
  answer->set_cancel(&admitted->client->gone());
  if (answer->streamed()) {
    // Lives in the content provider until the last event.
    struct Stream {
      std::unique_ptr<Answer> answer;
      Admitted admitted;
      Timer timer;
    };
    auto stream = std::make_shared<Stream>(Stream{std::move(answer), std::move(*admitted), {}});
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [&state, endpoint, stream](size_t, httplib::DataSink& sink) {
      Answer& a = *stream->answer;
      auto generate = [&](chat::EventStream& events) {
        return a.stream(stream->admitted.lease->session(), [&](const Json& c) { return events.send(c); });
      };
      auto last_chunk = [&](const GenerateResult& result, chat::EventStream& events) {
        return a.last_chunk(result, [&](const Json& c) { return events.send(c); });
      };
      stream_answer(state, stream->admitted, sink, endpoint, stream->timer, generate, last_chunk,
                    [&](const GenerateResult& result) { return a.usage_chunk(result); });
      return true;
    });
    return true;
  }
  const Json body = answer->whole(admitted->lease->session(), [&](const GenerateResult& result) {
    record_generation(state, result);
    return !(result.finish == FinishReason::kCancelled && !state.watch.shutting_down());
  });
  if (body.is_null()) {
    res.status = 499;  // nobody is listening
    return false;
  }
  res.set_content(dump_json(body), "application/json");
  return false;
}

}  // namespace mobilellm::server
