#include "server/json.h"

#include "server/api_error.h"

namespace mobilellm::server {
namespace {
// Deeper than any real request; bounds the recursion of everything that walks
// a request (schemas, message content, dumps).
constexpr int kMaxDepth = 64;
}  // namespace

Json parse_request_json(const std::string& body) {
  auto depth_guard = [](int depth, Json::parse_event_t, Json&) {
    if (depth > kMaxDepth) throw invalid_request("the JSON body nests deeper than " + std::to_string(kMaxDepth) + " levels");
    return true;
  };
  try {
    return Json::parse(body, depth_guard);
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for numbers like 1e999
    throw invalid_request(std::string("the body is not valid JSON: ") + e.what());
  }
}

}  // namespace mobilellm::server
