// libFuzzer target over JSON Schema → grammar (response_format json_schema
// and tool parameters): the input is a request's schema. The grammar built
// from it must then accept or refuse text without crashing; the schema's
// own dump is fed through it as one such text. A rejected schema must be a
// mobilellm::Error or an ApiError; anything else is a finding.
#include <cstdint>
#include <string>

#include "chat/json_schema_grammar.h"
#include "runtime/error.h"
#include "server/api_error.h"
#include "server/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mobilellm;
  using namespace mobilellm::chat;
  using mobilellm::server::ApiError;
  using mobilellm::server::parse_request_json;
  try {
    Json schema = parse_request_json(std::string(reinterpret_cast<const char*>(data), size));
    if (size > 0 && data[0] == '{') {
      (void)json_schema_grammar(schema);
    } else {
      (void)tool_call_grammar({{"f", schema}, {"g", Json::object()}});
    }
  } catch (const ApiError&) {
  } catch (const Error&) {
  }
  return 0;
}
