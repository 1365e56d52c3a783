#pragma once
// JSON from files and requests may nest without bound. nlohmann's parser is
// iterative, but dump(), comparisons and our own walks of a document recurse,
// so every parse of outside JSON refuses nesting past kMaxJsonDepth. Real
// configs, tokenizers, schemas and requests stay far below it.
//
//   json j = json::parse(text, json_depth_limit<json>("model/config.json"));
#include <string>

#include "runtime/error.h"

namespace mobilellm {

constexpr int kMaxJsonDepth = 64;

// A parser callback for nlohmann::basic_json::parse; throws mobilellm::Error
// naming `where` and the limit.
template <class Json>
auto json_depth_limit(std::string where) {
  return [where = std::move(where)](int depth, typename Json::parse_event_t, Json&) {
    if (depth > kMaxJsonDepth)
      throw Error(where + ": JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return true;
  };
}

}  // namespace mobilellm
