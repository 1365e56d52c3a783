#pragma once
// Reads tool calls out of what the model wrote. Llama-4-style models answer a
// tool request with the whole message being one of
//   {"name": "f", "parameters": {...}}                (also "arguments")
//   [{"name": ...}, {"name": ...}]  or objects separated by ";" or newlines
//   [f(city="Paris", days=3), g()]                     (Python call syntax)
// optionally wrapped in <|python_start|> … <|python_end|>. Anything else is
// ordinary content: parsing never throws.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mobilellm::chat {

struct ParsedToolCall {
  std::string name;
  std::string arguments;  // a JSON object, compact
};

// The calls, when the whole text is tool calls to functions named in `known`
// (any name when `known` is empty); nullopt otherwise.
std::optional<std::vector<ParsedToolCall>> parse_tool_calls(std::string_view text,
                                                            const std::vector<std::string>& known);

// Whether an answer that begins like this may turn out to be tool calls, so
// a streamed answer holds it back instead of sending it as content.
bool may_be_tool_call(std::string_view text_so_far, const std::vector<std::string>& known);

}  // namespace mobilellm::chat
