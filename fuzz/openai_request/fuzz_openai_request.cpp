// libFuzzer target over an OpenAI request body → what the server decides
// before generating: the first input byte picks /v1/chat/completions or
// /v1/completions, the rest is the body. Chat requests are rendered with the
// built-in Llama-4 chat format, and their tool or response_format grammar is
// built as the chat endpoint builds it. A rejected request must be an
// ApiError (a 4xx) or a mobilellm::Error; anything else is a finding.
#include <cstdint>
#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "chat/json_schema_grammar.h"
#include "runtime/error.h"
#include "server/api_error.h"
#include "server/json.h"
#include "server/openai_request.h"

namespace {

using namespace mobilellm;
using namespace mobilellm::server;

void plan_chat(const Json& body) {
  ChatRequest r = parse_chat_request(body, Sampling{});
  (void)ChatFormat().render(r.messages, r.tools_json.empty() ? Json() : parse_json_text(r.tools_json, "tools"), true);
  if (r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed) {
    std::vector<chat::ToolSchema> tools;
    for (const auto& t : r.tools)
      if (r.tool_choice == ToolChoice::kRequired || t.name == r.tool_name) tools.push_back({t.name, t.parameters});
    (void)chat::tool_call_grammar(tools);
  } else if (r.response_format == ResponseFormat::kJsonSchema) {
    (void)chat::json_schema_grammar(r.schema);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    Json j = parse_request_json(body);
    if (data[0] % 2 == 0)
      plan_chat(j);
    else
      (void)parse_completion_request(j, Sampling{}, 202048);
  } catch (const ApiError& e) {
    if (e.status() < 400 || e.status() >= 500) std::abort();
  } catch (const Error&) {
  }
  return 0;
}
