#include "server/api_error.h"
#include "server/server_state.h"

namespace mobilellm::server {

void stream_answer(ServerState& state, Admitted& admitted, httplib::DataSink& sink, const std::string& endpoint,
                   const Timer& started, const std::function<GenerateResult(chat::EventStream&)>& generate,
                   const std::function<Json(const GenerateResult&, chat::EventStream&)>& last_chunk,
                   const std::function<Json(const GenerateResult&)>& usage_chunk) {
  chat::EventStream events([&](std::string_view bytes) {
    if (!sink.write(bytes.data(), bytes.size())) admitted.client->set();
    return !admitted.client->gone().load();
  });
  GenerateResult result;
  try {
    result = generate(events);
  } catch (const std::exception& e) {
    events.fail(ApiError(500, "server_error", e.what()).body());
    sink.done();
    return;
  }
  record_generation(state, result);
  if (result.finish == FinishReason::kCancelled && !state.watch.shutting_down()) {
    record_request(state, endpoint, 499, started.seconds());
    sink.done();
    return;
  }
  const Json last = last_chunk(result, events);
  events.finish(last, usage_chunk(result));
  record_request(state, endpoint, 200, started.seconds());
  sink.done();
}

}  // namespace mobilellm::server
