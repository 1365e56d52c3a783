#pragma once
// A conversation as the chat format takes it (Engine::render_chat). JSON
// values (tool-call arguments, content that is not plain text, tool
// definitions) travel as JSON text: the API carries no JSON library's types.
#include <string>
#include <vector>

namespace mobilellm {

struct ToolCall {
  std::string id;  // optional
  std::string name;
  std::string arguments = "{}";  // a JSON object as text, e.g. {"city": "Paris"}; key order is kept
};

struct ChatMessage {
  std::string role;     // "system", "user", "assistant", "tool" (or "ipython")
  std::string content;  // the text of the message
  // true: `content` is JSON text instead: a list of {"type": "text", "text": …}
  // parts, or (tool results) any JSON value.
  bool content_is_json = false;
  std::vector<ToolCall> tool_calls;  // assistant turns that called tools
  std::string name;                  // tool results: the tool's name (optional)
  std::string tool_call_id;          // tool results: the call answered (optional)
};

}  // namespace mobilellm
