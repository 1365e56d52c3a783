#include "chat/tool_calls.h"

#include <algorithm>
#include <cctype>

#include "chat/json.h"
#include "runtime/json_depth.h"

namespace mobilellm::chat {
namespace {

constexpr std::string_view kPythonStart = "<|python_start|>";
constexpr std::string_view kPythonEnd = "<|python_end|>";
constexpr int kMaxDepth = 32;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; }

// {"name": "f", "parameters" | "arguments": {...} or a string holding one}.
// Model output nests as deep as it likes: deeper than the request limit is
// not a tool call (the recursion of dump() stays bounded).
std::optional<Json> parse_json(std::string_view text) {
  try {
    Json j = Json::parse(text.begin(), text.end(), json_depth_limit<Json>("tool call"), false);
    if (j.is_discarded()) return std::nullopt;
    return j;
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<ParsedToolCall> call_from_json(const Json& j) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return std::nullopt;
  Json args = Json::object();
  for (const char* key : {"parameters", "arguments"}) {
    if (!j.contains(key)) continue;
    args = j[key];
    if (args.is_string()) {
      std::optional<Json> parsed = parse_json(args.get<std::string>());
      args = parsed ? *parsed : Json();
    }
    break;
  }
  if (args.is_null()) args = Json::object();
  if (!args.is_object()) return std::nullopt;
  return ParsedToolCall{j["name"].get<std::string>(), args.dump()};
}

// One JSON value, several separated by ';', ',' or whitespace, or an array.
std::optional<std::vector<ParsedToolCall>> json_calls(std::string_view text) {
  std::vector<ParsedToolCall> calls;
  if (auto whole = parse_json(text)) {
    const Json items = whole->is_array() ? *whole : Json::array({*whole});
    if (items.empty()) return std::nullopt;
    for (const auto& item : items) {
      auto call = call_from_json(item);
      if (!call) return std::nullopt;
      calls.push_back(std::move(*call));
    }
    return calls;
  }
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (std::isspace(static_cast<unsigned char>(text[i])) || text[i] == ';' || text[i] == ','))
      ++i;
    if (i == text.size()) break;
    if (text[i] != '{') return std::nullopt;
    // The end of this object: match braces outside strings.
    size_t j = i;
    int depth = 0;
    bool in_string = false;
    for (; j < text.size(); ++j) {
      const char c = text[j];
      if (in_string) {
        if (c == '\\')
          ++j;
        else if (c == '"')
          in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{') {
        ++depth;
      } else if (c == '}' && --depth == 0) {
        break;
      }
    }
    if (j >= text.size()) return std::nullopt;
    auto value = parse_json(text.substr(i, j + 1 - i));
    if (!value) return std::nullopt;
    auto call = call_from_json(*value);
    if (!call) return std::nullopt;
    calls.push_back(std::move(*call));
    i = j + 1;
  }
  if (calls.empty()) return std::nullopt;
  return calls;
}

// Python call syntax: [f(a=1, b="x"), g()] or f(a=1). Values are Python
// literals: strings, numbers, True/False/None, lists, tuples, dicts.
class PythonCalls {
 public:
  explicit PythonCalls(std::string_view text) : s_(text) {}

  std::optional<std::vector<ParsedToolCall>> parse() {
    std::vector<ParsedToolCall> calls;
    skip();
    const bool bracketed = eat('[');
    do {
      auto call = parse_call();
      if (!call) return std::nullopt;
      calls.push_back(std::move(*call));
    } while (bracketed && eat(','));
    if (bracketed && !eat(']')) return std::nullopt;
    skip();
    if (i_ != s_.size()) return std::nullopt;
    return calls;
  }

 private:
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(char c) {
    skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::optional<std::string> name() {
    skip();
    if (i_ >= s_.size() || !is_name_start(s_[i_])) return std::nullopt;
    const size_t start = i_;
    while (i_ < s_.size() && is_name_char(s_[i_])) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }

  std::optional<ParsedToolCall> parse_call() {
    auto fn = name();
    if (!fn || !eat('(')) return std::nullopt;
    Json args = Json::object();
    if (!eat(')')) {
      do {
        if (eat(')')) return ParsedToolCall{*fn, args.dump()};  // trailing comma
        auto key = name();
        if (!key || !eat('=')) return std::nullopt;
        auto value = parse_value(0);
        if (!value) return std::nullopt;
        args[*key] = std::move(*value);
      } while (eat(','));
      if (!eat(')')) return std::nullopt;
    }
    return ParsedToolCall{*fn, args.dump()};
  }

  std::optional<Json> parse_value(int depth) {
    if (depth > kMaxDepth) return std::nullopt;
    skip();
    if (i_ >= s_.size()) return std::nullopt;
    const char c = s_[i_];
    if (c == '"' || c == '\'') return parse_string();
    if (c == '[' || c == '(') return parse_list(c == '[' ? ']' : ')', depth);
    if (c == '{') return parse_dict(depth);
    if (c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c))) return parse_number();
    auto word = name();
    if (!word) return std::nullopt;
    if (*word == "True" || *word == "true") return Json(true);
    if (*word == "False" || *word == "false") return Json(false);
    if (*word == "None" || *word == "null") return Json(nullptr);
    return std::nullopt;
  }

  std::optional<Json> parse_string() {
    const char quote = s_[i_++];
    std::string out;
    while (i_ < s_.size() && s_[i_] != quote) {
      char c = s_[i_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      c = s_[i_++];
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (i_ + 4 > s_.size()) return std::nullopt;
          // Let the JSON parser decode the escape (and reject a bad one).
          auto decoded = parse_json("\"\\u" + std::string(s_.substr(i_, 4)) + "\"");
          if (!decoded) return std::nullopt;
          out += decoded->get<std::string>();
          i_ += 4;
          break;
        }
        default: out += c;  // \\ \' \" and unknown escapes keep the character
      }
    }
    if (i_ >= s_.size()) return std::nullopt;
    ++i_;
    Json value(std::move(out));
    try {
      (void)value.dump();  // dumping the arguments later needs valid UTF-8
    } catch (const Json::type_error&) {
      return std::nullopt;
    }
    return value;
  }

  std::optional<Json> parse_number() {
    const size_t start = i_;
    while (i_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' || s_[i_] == '-' || s_[i_] == '+'))
      ++i_;
    std::string_view token = s_.substr(start, i_ - start);
    if (!token.empty() && token[0] == '+') token.remove_prefix(1);
    auto value = parse_json(token);
    if (!value || !value->is_number()) return std::nullopt;
    return value;
  }

  std::optional<Json> parse_list(char close, int depth) {
    ++i_;
    Json out = Json::array();
    if (eat(close)) return out;
    do {
      if (eat(close)) return out;  // trailing comma
      auto v = parse_value(depth + 1);
      if (!v) return std::nullopt;
      out.push_back(std::move(*v));
    } while (eat(','));
    if (!eat(close)) return std::nullopt;
    return out;
  }

  std::optional<Json> parse_dict(int depth) {
    ++i_;
    Json out = Json::object();
    if (eat('}')) return out;
    do {
      if (eat('}')) return out;
      skip();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) return std::nullopt;
      auto key = parse_string();
      if (!key || !eat(':')) return std::nullopt;
      auto v = parse_value(depth + 1);
      if (!v) return std::nullopt;
      out[key->get<std::string>()] = std::move(*v);
    } while (eat(','));
    if (!eat('}')) return std::nullopt;
    return out;
  }

  std::string_view s_;
  size_t i_ = 0;
};

std::string_view unwrap(std::string_view text) {
  text = trim(text);
  if (text.substr(0, kPythonStart.size()) == kPythonStart) text.remove_prefix(kPythonStart.size());
  text = trim(text);
  if (text.size() >= kPythonEnd.size() && text.substr(text.size() - kPythonEnd.size()) == kPythonEnd)
    text.remove_suffix(kPythonEnd.size());
  return trim(text);
}

}  // namespace

std::optional<std::vector<ParsedToolCall>> parse_tool_calls(std::string_view text,
                                                            const std::vector<std::string>& known) {
  text = unwrap(text);
  if (text.empty()) return std::nullopt;
  auto calls = text[0] == '{' || text[0] == '[' ? json_calls(text) : std::nullopt;
  if (!calls) calls = PythonCalls(text).parse();
  if (!calls) return std::nullopt;
  if (!known.empty())
    for (const auto& call : *calls)
      if (std::find(known.begin(), known.end(), call.name) == known.end()) return std::nullopt;
  return calls;
}

bool may_be_tool_call(std::string_view text, const std::vector<std::string>& known) {
  text = trim(text);
  if (text.empty()) return true;
  if (text[0] == '{' || text[0] == '[') return true;
  auto prefix_of = [&](std::string_view whole) {
    return whole.substr(0, std::min(whole.size(), text.size())) == text.substr(0, std::min(whole.size(), text.size()));
  };
  if (prefix_of(kPythonStart)) return true;
  // A bare call: the name of a tool, then '('.
  return std::any_of(known.begin(), known.end(), [&](const std::string& name) { return prefix_of(name + "("); });
}

}  // namespace mobilellm::chat
