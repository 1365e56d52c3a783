#include "chat/chat_format.h"

#include "chat/jinja/template.h"
#include "chat/llama4_chat_template.h"
#include "runtime/json_depth.h"

namespace mobilellm {

Json parse_json_text(const std::string& text, const std::string& what) {
  try {
    return Json::parse(text, json_depth_limit<Json>(what));
  } catch (const Json::exception& e) {
    throw Error(what + " is not valid JSON: " + e.what());
  }
}

Json messages_to_json(const std::vector<ChatMessage>& messages) {
  Json list = Json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    Json j = {{"role", m.role},
              {"content", m.content_is_json ? parse_json_text(m.content, where + ".content") : Json(m.content)}};
    // Templates test `'tool_calls' in message`, so the key is present only
    // when there are calls.
    if (!m.tool_calls.empty()) {
      Json calls = Json::array();
      for (const ToolCall& c : m.tool_calls) {
        Json call = Json::object();
        if (!c.id.empty()) call["id"] = c.id;
        call["type"] = "function";
        call["function"] = {{"name", c.name},
                            {"arguments", parse_json_text(c.arguments, where + ".tool_calls.arguments")}};
        calls.push_back(call);
      }
      j["tool_calls"] = calls;
    }
    if (!m.name.empty()) j["name"] = m.name;
    if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
    list.push_back(j);
  }
  return list;
}

namespace {

std::shared_ptr<const jinja::Template> builtin_template() {
  static const auto parsed =
      std::make_shared<const jinja::Template>(kLlama4ChatTemplate, "the built-in Llama-4 chat template");
  return parsed;
}

}  // namespace

ChatFormat::ChatFormat() : template_(builtin_template()) {}

ChatFormat::ChatFormat(const Tokenizer& tokenizer) : ChatFormat() {
  if (!tokenizer.bos_token().empty()) bos_token_ = tokenizer.bos_token();
  if (!tokenizer.eos_token().empty()) eos_token_ = tokenizer.eos_token();
  if (!tokenizer.chat_template().empty())
    template_ = std::make_shared<const jinja::Template>(tokenizer.chat_template(), tokenizer.chat_template_origin());
}

ChatFormat ChatFormat::from_template(const std::string& source, std::string bos_token, std::string eos_token) {
  ChatFormat f;
  f.template_ = std::make_shared<const jinja::Template>(source);
  f.bos_token_ = std::move(bos_token);
  f.eos_token_ = std::move(eos_token);
  return f;
}

std::string ChatFormat::render(const std::vector<ChatMessage>& messages, const Json& tools, bool add_generation_prompt,
                               const Json& extra) const {
  // The variables transformers' apply_chat_template passes.
  Json context = {
      {"messages", messages_to_json(messages)},         {"tools", tools},          {"documents", nullptr},
      {"add_generation_prompt", add_generation_prompt}, {"bos_token", bos_token_}, {"eos_token", eos_token_}};
  for (auto it = extra.begin(); it != extra.end(); ++it) context[it.key()] = it.value();
  return template_->render(context);
}

}  // namespace mobilellm
