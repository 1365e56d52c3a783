#pragma once
// The JSON type of the chat layer: ordered, so tool schemas, arguments and
// request objects keep their key order, as Python dicts do when transformers
// renders them (and schema properties are generated in that order).
#include <string>

#include <nlohmann/json.hpp>

namespace mobilellm {

using Json = nlohmann::ordered_json;

// Compact text; invalid UTF-8 (never expected) becomes U+FFFD instead of throwing.
inline std::string dump_json(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace mobilellm
