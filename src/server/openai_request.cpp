#include "server/openai_request.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/json_depth.h"
#include "server/api_error.h"

namespace mobilellm::server {
namespace {

constexpr int kMaxStops = 4;  // OpenAI's limit
constexpr int kMaxTopLogprobs = 20;

const char* type_name(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

[[noreturn]] void wrong_type(const std::string& param, const char* expected, const Json& v) {
  throw invalid_request("'" + param + "' must be " + expected + ", not " + type_name(v), param);
}

// Typed access to one JSON object's fields; `prefix` names nested objects in errors.
class Fields {
 public:
  Fields(const Json& j, std::string prefix = {}) : j_(j), prefix_(std::move(prefix)) {
    if (!j.is_object()) wrong_type(prefix_.empty() ? "body" : prefix_.substr(0, prefix_.size() - 1), "an object", j);
  }

  // Absent and null both mean "not given", as in the OpenAI API.
  const Json* get(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  std::string name(const char* key) const { return prefix_ + key; }

  std::optional<double> number(const char* key, double lo, double hi) const {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) wrong_type(name(key), "a number", *v);
    const double x = v->get<double>();
    if (!(x >= lo && x <= hi))
      throw invalid_request("'" + name(key) + "' must be between " + fmt(lo) + " and " + fmt(hi) + ", got " + fmt(x),
                            name(key));
    return x;
  }
  std::optional<int64_t> integer(const char* key, int64_t lo, int64_t hi) const {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    // 3.0 is an integer to Python clients; 3.5 is not.
    if (v->is_number_float()) {
      const double d = v->get<double>();
      if (std::floor(d) != d || std::abs(d) > 9e15) wrong_type(name(key), "an integer", *v);
      return check_range(key, static_cast<int64_t>(d), lo, hi);
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return check_range(key, std::numeric_limits<int64_t>::max(), lo, hi);
    if (!v->is_number_integer()) wrong_type(name(key), "an integer", *v);
    return check_range(key, v->get<int64_t>(), lo, hi);
  }
  std::optional<bool> boolean(const char* key) const {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) wrong_type(name(key), "a boolean", *v);
    return v->get<bool>();
  }
  std::optional<std::string> string(const char* key) const {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) wrong_type(name(key), "a string", *v);
    return v->get<std::string>();
  }
  const Json* object(const char* key) const {
    const Json* v = get(key);
    if (v && !v->is_object()) wrong_type(name(key), "an object", *v);
    return v;
  }
  const Json* array(const char* key) const {
    const Json* v = get(key);
    if (v && !v->is_array()) wrong_type(name(key), "an array", *v);
    return v;
  }

 private:
  int64_t check_range(const char* key, int64_t x, int64_t lo, int64_t hi) const {
    if (x < lo || x > hi)
      throw invalid_request("'" + name(key) + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                                ", got " + std::to_string(x),
                            name(key));
    return x;
  }
  static std::string fmt(double x) {
    std::string s = std::to_string(x);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }

  const Json& j_;
  std::string prefix_;
};

CommonParams parse_common(const Fields& f, const Sampling& defaults) {
  CommonParams p;
  p.sampling = defaults;
  if (auto t = f.number("temperature", 0, 2)) p.sampling.temperature = *t;
  if (auto v = f.number("top_p", 0, 1)) {
    if (*v == 0) throw invalid_request("'top_p' must be greater than 0", "top_p");
    p.sampling.top_p = *v;
  }
  if (auto v = f.integer("top_k", -1, std::numeric_limits<int32_t>::max())) p.sampling.top_k = *v < 0 ? 0 : *v;
  if (auto v = f.number("min_p", 0, 1)) p.sampling.min_p = *v;
  if (auto v = f.number("repetition_penalty", 0, 10)) {
    if (*v == 0) throw invalid_request("'repetition_penalty' must be greater than 0", "repetition_penalty");
    p.sampling.repetition_penalty = *v;
  }
  // Accepted for compatibility and range-checked; the sampler does not apply them.
  f.number("frequency_penalty", -2, 2);
  f.number("presence_penalty", -2, 2);
  if (auto v = f.integer("seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()))
    p.sampling.seed = static_cast<uint64_t>(*v);
  if (auto n = f.integer("n", 1, 1); n && *n != 1) throw invalid_request("only n = 1 is supported", "n");
  p.draft_max = f.integer("draft_max", 0, kMaxDraftTokens);
  if (const Json* stop = f.get("stop")) {
    if (stop->is_string()) {
      p.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      if (stop->size() > kMaxStops) throw invalid_request("'stop' takes at most 4 strings", "stop");
      for (const auto& s : *stop) {
        if (!s.is_string()) wrong_type("stop", "a string or an array of strings", *stop);
        p.stop.push_back(s.get<std::string>());
      }
    } else {
      wrong_type("stop", "a string or an array of strings", *stop);
    }
  }
  p.ignore_eos = f.boolean("ignore_eos").value_or(false);
  p.stream = f.boolean("stream").value_or(false);
  if (const Json* options = f.object("stream_options")) {
    if (!p.stream) throw invalid_request("'stream_options' is only allowed with 'stream': true", "stream_options");
    p.include_usage = Fields(*options, "stream_options.").boolean("include_usage").value_or(false);
  }
  f.string("model");  // any model name is served by the one model, but it must be a string
  return p;
}

// Message content: a string, or an array of {"type": "text", "text": …} parts.
std::string content_text(const Json& content, const std::string& param) {
  if (content.is_null()) return {};
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) wrong_type(param, "a string or an array of content parts", content);
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string part_name = param + "[" + std::to_string(i) + "]";
    Fields part(content[i], part_name + ".");
    const std::string type = part.string("type").value_or("");
    if (type != "text")
      throw invalid_request("content part type '" + type + "' is not supported (only 'text')", part_name + ".type");
    text += part.string("text").value_or("");
  }
  return text;
}

ChatMessage parse_message(const Json& m, size_t index) {
  const std::string prefix = "messages[" + std::to_string(index) + "].";
  Fields f(m, prefix);
  ChatMessage msg;
  const auto role = f.string("role");
  if (!role) throw invalid_request("'" + f.name("role") + "' is required", f.name("role"));
  msg.role = *role == "developer" ? "system" : *role;
  if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" && msg.role != "tool")
    throw invalid_request(
        "'" + f.name("role") + "' must be system, developer, user, assistant or tool, not '" + *role + "'",
        f.name("role"));
  const Json* content = f.get("content");
  if (!content && msg.role != "assistant")
    throw invalid_request("'" + f.name("content") + "' is required", f.name("content"));
  msg.content = content ? content_text(*content, f.name("content")) : std::string();
  msg.name = f.string("name").value_or("");
  if (msg.role == "tool") msg.tool_call_id = f.string("tool_call_id").value_or("");
  if (const Json* calls = f.array("tool_calls")) {
    if (msg.role != "assistant")
      throw invalid_request("only assistant messages carry tool_calls", f.name("tool_calls"));
    for (size_t i = 0; i < calls->size(); ++i) {
      const std::string call_prefix = f.name("tool_calls") + "[" + std::to_string(i) + "].";
      Fields call((*calls)[i], call_prefix);
      const Json* fn = call.object("function");
      if (!fn) throw invalid_request("'" + call.name("function") + "' is required", call.name("function"));
      Fields function(*fn, call_prefix + "function.");
      ToolCall tc;
      tc.id = call.string("id").value_or("");
      tc.name = function.string("name").value_or("");
      if (tc.name.empty()) throw invalid_request("'" + function.name("name") + "' is required", function.name("name"));
      // The chat format writes the arguments back as JSON: they must be a JSON object.
      tc.arguments = function.string("arguments").value_or("{}");
      Json arguments;
      try {
        arguments = Json::parse(tc.arguments, json_depth_limit<Json>(function.name("arguments")), false);
      } catch (const Error& e) {
        throw invalid_request(e.what(), function.name("arguments"));
      }
      if (!arguments.is_object())
        throw invalid_request("'" + function.name("arguments") + "' must be a JSON object, as text",
                              function.name("arguments"));
      msg.tool_calls.push_back(std::move(tc));
    }
  } else if (!content && msg.role == "assistant") {
    throw invalid_request("'" + f.name("content") + "' is required unless the message has tool_calls",
                          f.name("content"));
  }
  return msg;
}

void parse_tools(const Fields& f, ChatRequest& r) {
  if (const Json* tools = f.array("tools")) {
    Json rendered_tools;  // null until there is one
    for (size_t i = 0; i < tools->size(); ++i) {
      const std::string prefix = "tools[" + std::to_string(i) + "].";
      Fields tool((*tools)[i], prefix);
      if (tool.string("type").value_or("function") != "function")
        throw invalid_request("only tools of type 'function' are supported", tool.name("type"));
      const Json* fn = tool.object("function");
      if (!fn) throw invalid_request("'" + tool.name("function") + "' is required", tool.name("function"));
      Fields function(*fn, prefix + "function.");
      ToolDef def;
      def.name = function.string("name").value_or("");
      if (def.name.empty()) throw invalid_request("'" + function.name("name") + "' is required", function.name("name"));
      def.description = function.string("description").value_or("");
      if (const Json* params = function.object("parameters")) def.parameters = *params;
      Json rendered = {{"name", def.name}};
      if (!def.description.empty()) rendered["description"] = def.description;
      if (!def.parameters.is_null()) rendered["parameters"] = def.parameters;
      rendered_tools.push_back({{"type", "function"}, {"function", rendered}});
      r.tools.push_back(std::move(def));
    }
    if (!rendered_tools.is_null()) r.tools_json = dump_json(rendered_tools);
  }
  const Json* choice = f.get("tool_choice");
  if (!choice) {
    r.tool_choice = r.tools.empty() ? ToolChoice::kNone : ToolChoice::kAuto;
    return;
  }
  if (choice->is_string()) {
    const std::string c = choice->get<std::string>();
    if (c == "none")
      r.tool_choice = ToolChoice::kNone;
    else if (c == "auto")
      r.tool_choice = ToolChoice::kAuto;
    else if (c == "required")
      r.tool_choice = ToolChoice::kRequired;
    else
      throw invalid_request("'tool_choice' must be none, auto, required or a function, not '" + c + "'", "tool_choice");
  } else if (choice->is_object()) {
    Fields c(*choice, "tool_choice.");
    const Json* fn = c.object("function");
    if (!fn) throw invalid_request("'tool_choice.function' is required", "tool_choice.function");
    r.tool_choice = ToolChoice::kNamed;
    r.tool_name = Fields(*fn, "tool_choice.function.").string("name").value_or("");
  } else {
    wrong_type("tool_choice", "a string or an object", *choice);
  }
  if (r.tool_choice != ToolChoice::kNone && r.tool_choice != ToolChoice::kAuto && r.tools.empty())
    throw invalid_request("'tool_choice' requires 'tools'", "tool_choice");
  if (r.tool_choice == ToolChoice::kNamed &&
      std::none_of(r.tools.begin(), r.tools.end(), [&](const ToolDef& t) { return t.name == r.tool_name; }))
    throw invalid_request("'tool_choice' names the function '" + r.tool_name + "', which is not among 'tools'",
                          "tool_choice");
}

void parse_response_format(const Fields& f, ChatRequest& r) {
  const Json* rf = f.object("response_format");
  if (!rf) return;
  Fields format(*rf, "response_format.");
  const std::string type = format.string("type").value_or("");
  if (type == "text") return;
  if (type == "json_object") {
    r.response_format = ResponseFormat::kJsonObject;
    return;
  }
  if (type != "json_schema")
    throw invalid_request("'response_format.type' must be text, json_object or json_schema", "response_format.type");
  const Json* js = format.object("json_schema");
  if (!js) throw invalid_request("'response_format.json_schema' is required", "response_format.json_schema");
  Fields schema(*js, "response_format.json_schema.");
  const Json* s = schema.get("schema");
  if (!s)
    throw invalid_request("'response_format.json_schema.schema' is required", "response_format.json_schema.schema");
  r.response_format = ResponseFormat::kJsonSchema;
  r.schema = *s;
}

}  // namespace

ChatRequest parse_chat_request(const Json& body, const Sampling& defaults) {
  Fields f(body);
  ChatRequest r;
  r.common = parse_common(f, defaults);
  const int64_t max_tokens_limit = std::numeric_limits<int32_t>::max();
  r.common.max_tokens = f.integer("max_completion_tokens", 1, max_tokens_limit);
  if (auto legacy = f.integer("max_tokens", 1, max_tokens_limit); legacy && !r.common.max_tokens)
    r.common.max_tokens = legacy;
  const Json* messages = f.array("messages");
  if (!messages) throw invalid_request("'messages' is required", "messages");
  if (messages->empty()) throw invalid_request("'messages' must not be empty", "messages");
  for (size_t i = 0; i < messages->size(); ++i) r.messages.push_back(parse_message((*messages)[i], i));
  parse_tools(f, r);
  parse_response_format(f, r);
  if (r.response_format != ResponseFormat::kText &&
      (r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed))
    throw invalid_request("'response_format' and a forced 'tool_choice' cannot be combined", "response_format");
  r.logprobs = f.boolean("logprobs").value_or(false);
  if (auto n = f.integer("top_logprobs", 0, kMaxTopLogprobs)) {
    if (!r.logprobs) throw invalid_request("'top_logprobs' requires 'logprobs': true", "top_logprobs");
    r.top_logprobs = static_cast<int>(*n);
  }
  return r;
}

CompletionRequest parse_completion_request(const Json& body, const Sampling& defaults, int64_t vocab_size) {
  Fields f(body);
  CompletionRequest r;
  r.common = parse_common(f, defaults);
  r.common.max_tokens = f.integer("max_tokens", 0, std::numeric_limits<int32_t>::max()).value_or(16);
  r.echo = f.boolean("echo").value_or(false);
  if (auto n = f.integer("logprobs", 0, kMaxTopLogprobs)) r.logprobs = static_cast<int>(*n);
  if (*r.common.max_tokens == 0 && !r.echo)
    throw invalid_request("'max_tokens' may be 0 only with 'echo': true", "max_tokens");
  if (auto best_of = f.integer("best_of", 1, 1); best_of && *best_of != 1)
    throw invalid_request("only best_of = 1 is supported", "best_of");
  if (f.string("suffix")) throw invalid_request("'suffix' is not supported", "suffix");

  const Json* prompt = f.get("prompt");
  if (!prompt) throw invalid_request("'prompt' is required", "prompt");
  auto ids = [&](const Json& list, const std::string& param) {
    std::vector<int32_t> out;
    for (const auto& v : list) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= vocab_size)
        throw invalid_request("'" + param + "' must hold token ids in 0.." + std::to_string(vocab_size - 1), param);
      out.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    if (out.empty()) throw invalid_request("'" + param + "' must not be empty", param);
    return out;
  };
  if (prompt->is_array() && prompt->empty()) throw invalid_request("'prompt' must not be empty", "prompt");
  if (prompt->is_string()) {
    r.prompts.emplace_back(prompt->get<std::string>());
  } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number()) {
    r.prompts.emplace_back(ids(*prompt, "prompt"));
  } else if (prompt->is_array() && !prompt->empty()) {
    for (size_t i = 0; i < prompt->size(); ++i) {
      const Json& p = (*prompt)[i];
      const std::string param = "prompt[" + std::to_string(i) + "]";
      if (p.is_string())
        r.prompts.emplace_back(p.get<std::string>());
      else if (p.is_array())
        r.prompts.emplace_back(ids(p, param));
      else
        wrong_type(param, "a string or an array of token ids", p);
    }
  } else {
    wrong_type("prompt", "a string, an array of strings, token ids or an array of token-id arrays", *prompt);
  }
  if (r.common.stream && r.prompts.size() > 1) throw invalid_request("streaming takes a single prompt", "prompt");
  return r;
}

}  // namespace mobilellm::server
