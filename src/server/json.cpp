#include "server/json.h"

#include "server/api_error.h"

namespace mobilellm::server {
namespace {
// Deeper than any real request; bounds the recursion of everything that walks
// a request (schemas, message content, dumps).
constexpr int kMaxDepth = 64;
}  // namespace

Json parse_request_json(const std::string& body) {
  // The last key read names the parameter when a number does not fit a double (1e999).
  std::string last_key;
  auto guard = [&last_key](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > kMaxDepth)
      throw invalid_request("the JSON body nests deeper than " + std::to_string(kMaxDepth) + " levels");
    if (event == Json::parse_event_t::key) last_key = parsed.get<std::string>();
    return true;
  };
  try {
    return Json::parse(body, guard);
  } catch (const Json::parse_error& e) {
    throw invalid_request(std::string("the body is not valid JSON: ") + e.what());
  } catch (const Json::out_of_range&) {
    if (last_key.empty()) throw invalid_request("the body holds a number out of range (not a finite double)");
    throw invalid_request("'" + last_key + "' holds a number out of range (not a finite double)", last_key);
  }
}

}  // namespace mobilellm::server
