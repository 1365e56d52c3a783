#pragma once
// What the endpoints share: the engine (null until loaded), the slots, the
// metrics, the client watcher and the options.
#include <httplib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "chat/event_stream.h"
#include "chat/grammar_constraint.h"
#include "runtime/timer.h"
#include "server/client_watch.h"
#include "server/metrics.h"
#include "server/openai_answer.h"
#include "server/scheduler.h"
#include "mobilellm/server.h"

namespace mobilellm::server {

struct ServerState {
  ServerOptions options;
  std::shared_ptr<Engine> engine;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<chat::SortedVocab> vocab;  // for constrained decoding
  std::string model_name;
  int64_t context = 0;
  int64_t created = 0;  // unix time the model was loaded
  std::atomic<bool> ready{false};
  Metrics metrics;
  ClientWatch watch;

  AnswerContext answer_context() const { return {*engine, *vocab, model_name, context}; }
};

// A request that got a slot, and the watch on its client.
struct Admitted {
  std::unique_ptr<ClientWatch::Registration> client;
  std::unique_ptr<Scheduler::Lease> lease;
};

// Waits for a slot. Throws ApiError 503 (with Retry-After) when the queue is
// full or the server shuts down; nullopt when the client left while waiting.
std::optional<Admitted> admit(ServerState& state, const httplib::Request& http, std::span<const int32_t> prompt);

// Metrics of one finished generation.
void record_generation(ServerState& state, const GenerateResult& result);

// The life of one streamed answer, the same for both generating endpoints:
// `generate` sends the answer's events and returns its result. A failure then
// ends the stream with an error event; an answer cancelled because the client
// left ends it silently (status 499); a finished one ends with the events
// `last_chunk` sends and returns (the chunk with the finish reason) and, when
// `usage_chunk` gives one (not null), the usage chunk. Records the
// generation and the request metrics; `started` times the request.
void stream_answer(ServerState& state, Admitted& admitted, httplib::DataSink& sink, const std::string& endpoint,
                   const Timer& started, const std::function<GenerateResult(chat::EventStream&)>& generate,
                   const std::function<Json(const GenerateResult&, chat::EventStream&)>& last_chunk,
                   const std::function<Json(const GenerateResult&)>& usage_chunk);

// The endpoints. Each throws ApiError for a request it refuses. The
// generating ones return true when the answer is streamed: the stream then
// records its own request metrics when it ends.
bool handle_chat(ServerState& state, const httplib::Request& http, httplib::Response& res);
bool handle_completions(ServerState& state, const httplib::Request& http, httplib::Response& res);
void handle_tokenize(ServerState& state, const httplib::Request& http, httplib::Response& res);
void handle_detokenize(ServerState& state, const httplib::Request& http, httplib::Response& res);
void handle_tokenizer_info(ServerState& state, const httplib::Request& http, httplib::Response& res);

void record_request(ServerState& state, const std::string& endpoint, int status, double seconds);

}  // namespace mobilellm::server
