#pragma once
// Chat rendering for MobileLLM-Pro (spec §5): a conversation becomes the
// prompt text, which is then encoded with parse_special = true.
//
//   ChatFormat chat(tokenizer);   // the checkpoint's chat_template, else Llama-4's
//   std::string prompt = chat.render(messages, tools, /*add_generation_prompt=*/true);
//   auto ids = tokenizer.encode(prompt, {.parse_special = true});
#include <memory>
#include <string>
#include <vector>

#include "chat/json.h"
#include "tokenizer/tokenizer.h"

namespace mobilellm {

struct ToolCall {
  std::string id;  // optional
  std::string name;
  Json arguments = Json::object();  // an object, e.g. {"city": "Paris"}
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant", "tool" (or "ipython")
  // Usually a string. Also accepted: a list of {"type": "text", "text": ...}
  // parts, or (tool results) any JSON value.
  Json content = "";
  std::vector<ToolCall> tool_calls;  // assistant turns that called tools
  std::string name;                  // tool results: the tool's name (optional)
  std::string tool_call_id;          // tool results: the call answered (optional)
};

// The messages as the JSON list chat templates receive (Hugging Face shape).
Json messages_to_json(const std::vector<ChatMessage>& messages);

namespace jinja {
class Template;
}

class ChatFormat {
 public:
  // The tokenizer's chat_template() when it has one, else the built-in
  // Llama-4 template (chat/llama4_chat_template.h); bos_token / eos_token
  // come from the tokenizer.
  explicit ChatFormat(const Tokenizer& tokenizer);
  // The built-in Llama-4 template.
  ChatFormat();
  // A Jinja chat template (throws mobilellm::Error on a syntax error).
  static ChatFormat from_template(const std::string& source, std::string bos_token, std::string eos_token);

  // `tools`: null or a list of tool definitions (JSON schema objects).
  // `extra`: further template variables (e.g. {"tools_in_user_message": false}).
  std::string render(const std::vector<ChatMessage>& messages, const Json& tools = nullptr,
                     bool add_generation_prompt = true, const Json& extra = Json::object()) const;

 private:
  std::shared_ptr<const jinja::Template> template_;
  std::string bos_token_ = "<|begin_of_text|>", eos_token_ = "<|eot|>";
};

}  // namespace mobilellm
