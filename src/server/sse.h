#pragma once
// Server-sent events as the OpenAI streaming API uses them: one JSON object
// per `data:` event, and a final `data: [DONE]`.
#include <string>

#include "server/json.h"

namespace mobilellm::server {

std::string sse_event(const Json& data);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

}  // namespace mobilellm::server
