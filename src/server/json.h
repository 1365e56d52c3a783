#pragma once
// The JSON type of the server: objects keep their keys in the order the
// client wrote them (schema properties are generated in that order).
#include <nlohmann/json.hpp>

namespace mobilellm::server {

using Json = nlohmann::ordered_json;

// Parses a request body; throws ApiError (400) for malformed or too deeply
// nested JSON, so no later recursive walk can exhaust the stack.
Json parse_request_json(const std::string& body);

}  // namespace mobilellm::server
