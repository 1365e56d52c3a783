// libFuzzer target over a checkpoint's tokenizer_config.json and its chat
// template: the input is the file's text, a NUL byte, and a JSON list of chat
// messages. The file is read as a checkpoint's is (added tokens, BOS/EOS, the
// template), then the template renders the messages (or a fixed conversation
// when they are not a list of messages). Any mobilellm::Error is an accepted
// answer; a crash, a sanitizer report, a hang or another exception is a finding.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "runtime/error.h"
#include "tokenizer/loaders.h"

namespace {

using namespace mobilellm;

std::vector<ChatMessage> messages_from(const std::string& text) {
  std::vector<ChatMessage> out;
  Json list = Json::parse(text, nullptr, false);
  if (list.is_array())
    for (const Json& m : list)
      if (m.is_object() && m.contains("role") && m["role"].is_string()) {
        ChatMessage message;
        message.role = m["role"].get<std::string>();
        message.content = m.contains("content") ? m["content"].dump() : "\"\"";
        message.content_is_json = true;
        out.push_back(std::move(message));
      }
  if (out.empty()) out = {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}};
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::map<std::string, std::string> files = {{"tokenizer_config.json", input.substr(0, split)}};
  try {
    tokenizer::TokenizerData config;
    tokenizer::apply_checkpoint_config(tokenizer::TokenizerFiles("fuzz", files), config);
    if (config.chat_template.empty()) return 0;
    ChatFormat chat = ChatFormat::from_template(config.chat_template, config.bos_token, config.eos_token);
    const Json tools =
        Json::array({{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", Json::object()}}}}});
    (void)chat.render(messages_from(split == std::string::npos ? "" : input.substr(split + 1)), tools, true);
  } catch (const Error&) {
  }
  return 0;
}
