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
#include "mobilellm/chat.h"
#include "tokenizer/tokenizer.h"

namespace mobilellm {

// The messages as the JSON list chat templates receive (Hugging Face shape).
// Throws Error for JSON text (content, arguments) that does not parse.
Json messages_to_json(const std::vector<ChatMessage>& messages);

// JSON text from outside (a message, tool definitions); throws Error naming
// `what` when it does not parse or nests too deep.
Json parse_json_text(const std::string& text, const std::string& what);

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
