// The built-in Llama-4 chat format. It follows, branch by branch, the Llama-4
// chat template that transformers ships (models/llama4/processing_llama4.py),
// so a checkpoint without a chat_template gets the same prompt as one with it;
// tests render both and compare with Python's jinja2.
#include "runtime/error.h"
#include "tokenizer/chat_format.h"
#include "tokenizer/jinja/value.h"
#include "tokenizer/unicode_class.h"
#include "tokenizer/utf8.h"

namespace mobilellm {
namespace {

std::string header(const std::string& role) { return "<|header_start|>" + role + "<|header_end|>\n\n"; }

// transformers' tojson: json.dumps(x, ensure_ascii=False, indent=indent).
std::string tojson(const Json& j, int indent = -1) {
  jinja::JsonStyle style;
  style.indent = indent;
  return jinja::python_json_dumps(jinja::Value::from_json(j), style);
}

// Jinja's trim filter: str(x).strip(), which strips Unicode whitespace.
std::string trimmed(const Json& content) {
  std::string s = jinja::Value::from_json(content).str();
  auto space_at = [&](size_t i, size_t* n) {
    char32_t cp;
    *n = tokenizer::utf8_sequence(s, i, &cp);
    return *n != 0 && tokenizer::is_python_space(cp);
  };
  size_t b = 0, e = s.size(), n;
  while (b < e && space_at(b, &n)) b += n;
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    if (!space_at(start, &n)) break;
    e = start;
  }
  return s.substr(b, e - b);
}

// A message's text: the string itself, or its text parts (images as <|image|>).
std::string content_text(const Json& content) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) throw Error("chat message content must be a string or a list of parts");
  std::string out;
  for (const Json& part : content) {
    if (!part.is_object()) continue;
    if (part.value("type", "") == "image") out += "<|image|>";
    else if (part.value("type", "") == "text" && part.contains("text")) out += jinja::Value::from_json(part["text"]).str();
  }
  return out;
}

std::string tool_list(const Json& tools) {
  std::string out;
  for (const Json& t : tools) out += tojson(t, 4) + "\n\n";
  return out;
}

const char kRespondFormat[] =
    "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}."
    "Do not use variables.\n\n";

}  // namespace

std::string render_llama4_chat(const std::vector<ChatMessage>& messages, const Json& tools, bool add_generation_prompt,
                               const std::string& bos_token, bool tools_in_user_message) {
  if (messages.empty()) throw Error("chat: no messages to render");
  bool has_tools = !tools.is_null();
  if (has_tools && !tools.is_array()) throw Error("chat: tools must be a list of tool definitions");
  std::string out = bos_token;
  size_t next = 0;

  if (messages[0].role == "system") {
    const Json& c = messages[0].content;
    std::string system = trimmed(c.is_string() || !c.is_array() || c.empty() ? c : c[0].value("text", Json("")));
    next = 1;
    out += header("system");
    if (has_tools) out += "Environment: ipython\n";
    if (has_tools && !tools_in_user_message) {
      out += "You have access to the following functions. To call a function, please respond with JSON for a function call.";
      out += kRespondFormat + tool_list(tools);
    }
    out += system + "<|eot|>";
  }

  if (tools_in_user_message && has_tools) {
    if (next >= messages.size())
      throw Error("chat: Cannot put tools in the first user message when there's no first user message!");
    std::string first_user = trimmed(messages[next].content);
    ++next;
    out += header("user");
    out += "Given the following functions, please respond with a JSON for a function call ";
    out += "with its proper arguments that best answers the given prompt.\n\n";
    out += kRespondFormat + tool_list(tools) + first_user + "<|eot|>";
  }

  for (size_t i = next; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    bool is_tool = m.role == "ipython" || m.role == "tool";
    if (!is_tool && m.tool_calls.empty()) {
      out += header(m.role) + content_text(m.content) + "<|eot|>";
    } else if (!m.tool_calls.empty()) {
      out += header("assistant") + "<|python_start|>" + content_text(m.content) + "<|python_end|>";
      for (const ToolCall& c : m.tool_calls) out += "{\"name\": \"" + c.name + "\", \"parameters\": " + tojson(c.arguments) + "}";
      out += "<|eot|>";
    } else {
      // The template tests "is mapping or is iterable": strings are iterable
      // too, so a string result is written as a JSON string.
      const Json& c = m.content;
      out += header("ipython") + (c.is_object() || c.is_array() || c.is_string() ? tojson(c) : jinja::Value::from_json(c).str()) + "<|eot|>";
    }
  }
  if (add_generation_prompt) out += header("assistant");
  return out;
}

}  // namespace mobilellm
