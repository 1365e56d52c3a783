#pragma once
// An answer streamed as server-sent events the way the OpenAI streaming API
// sends it: one JSON object per `data:` event and `data: [DONE]` at the end.
// Both streaming endpoints (chat and legacy completions) send through one
// EventStream, so every stream ends the same way.
#include <functional>
#include <string_view>

#include "chat/json.h"

namespace mobilellm::chat {

class EventStream {
 public:
  // `write` sends bytes to the client and returns false once the client is gone.
  explicit EventStream(std::function<bool(std::string_view)> write) : write_(std::move(write)) {}

  // One event; false once the client is gone.
  bool send(const Json& data);
  // The end of an answer that failed while generating: the error object, then [DONE].
  void fail(const Json& error);
  // The end of a finished answer: its last chunk, the usage chunk unless it
  // is null, then [DONE].
  void finish(const Json& last_chunk, const Json& usage_chunk);

 private:
  std::function<bool(std::string_view)> write_;
};

}  // namespace mobilellm::chat
