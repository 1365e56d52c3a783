#pragma once
// OpenAI-shaped answers without HTTP: a /v1/chat/completions or
// /v1/completions request body in, the response body or its stream chunks
// out, exactly as `mobilellm serve` answers them (tool calls, JSON-schema
// output, logprobs, echo, usage). For programs that embed the engine and
// speak the OpenAI shapes, such as the Python package.
//
//   mobilellm::OpenAIResponder openai(engine, "my-model");
//   auto session = engine->new_session(4096);
//   std::string reply = openai.chat_completion(*session, R"({"messages": [{"role": "user", "content": "Hi"}]})");
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "mobilellm/engine.h"

namespace mobilellm {

// A request the OpenAI API refuses with 400 invalid_request_error (a wrong
// type, a value out of range, a prompt longer than the context); `param`
// names the request field, as in the API's error body.
class InvalidRequest : public Error {
 public:
  InvalidRequest(const std::string& message, std::string param) : Error(message), param_(std::move(param)) {}
  const std::string& param() const { return param_; }

 private:
  std::string param_;
};

// Receives each chunk of a streamed answer as JSON text (a
// chat.completion.chunk or a text_completion object); false cancels.
using ChunkCallback = std::function<bool(const std::string& chunk)>;

class OpenAIResponder {
 public:
  // `model_name`: the answers' "model" field. The engine must have a tokenizer.
  OpenAIResponder(std::shared_ptr<Engine> engine, std::string model_name);
  ~OpenAIResponder();
  OpenAIResponder(const OpenAIResponder&) = delete;
  OpenAIResponder& operator=(const OpenAIResponder&) = delete;

  // Answers a request body on `session` (its context bounds prompt and
  // answer). Not streamed: returns the response object as JSON text. With
  // "stream": true: sends every chunk to `on_chunk`, the last chunk (finish
  // reason) and the usage chunk (stream_options.include_usage) included, and
  // returns "". `cancel`, set by another thread, stops the answer early: its
  // finish_reason is then "cancelled" (a stream ends without the last chunk).
  // Throws InvalidRequest for a body the server answers with 400, Error for
  // any other failure; the session stays usable.
  std::string chat_completion(Session& session, const std::string& body, const ChunkCallback& on_chunk = {},
                              const std::atomic<bool>* cancel = nullptr) const;
  std::string completion(Session& session, const std::string& body, const ChunkCallback& on_chunk = {},
                         const std::atomic<bool>* cancel = nullptr) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mobilellm
