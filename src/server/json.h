#pragma once
// Reading request bodies (JSON as chat/json.h has it: keys keep their order).
#include <string>

#include "chat/json.h"

namespace mobilellm::server {

// Parses a request body; throws ApiError (400) for malformed or too deeply
// nested JSON, so no later recursive walk can exhaust the stack.
Json parse_request_json(const std::string& body);

}  // namespace mobilellm::server
