#include "chat/json_schema_grammar.h"

#include <algorithm>
#include <array>
#include <map>

#include "runtime/error.h"

namespace mobilellm::chat {
namespace {

using Seq = Grammar::Sequence;

// Longer bounded repetitions become unbounded: each bound costs a rule.
constexpr int64_t kMaxBound = 1000;
constexpr int kMaxSchemaDepth = 48;

ByteSet range(uint8_t lo, uint8_t hi) {
  ByteSet s;
  for (int b = lo; b <= hi; ++b) s.set(static_cast<size_t>(b));
  return s;
}

ByteSet chars(std::string_view list) {
  ByteSet s;
  for (char c : list) s.set(static_cast<uint8_t>(c));
  return s;
}

class Builder {
 public:
  explicit Builder(Grammar& g) : g_(g) {
    ws_ = whitespace();
    string_char_ = string_char();
  }

  Seq ws() const { return {Grammar::ref(ws_)}; }

  int32_t any_value() {
    if (any_value_ >= 0) return any_value_;
    any_value_ = g_.add_rule();  // recursive: objects and arrays hold values
    const int32_t object = any_object();
    const int32_t array = list_of({Grammar::ref(any_value_)}, 0, -1);
    for (int32_t r :
         {object, array, string(0, -1), number(), literal_rule("true"), literal_rule("false"), literal_rule("null")})
      g_.add_alternative(any_value_, {Grammar::ref(r)});
    return any_value_;
  }

  int32_t any_object() {
    if (any_object_ >= 0) return any_object_;
    any_object_ = g_.add_rule();
    const int32_t value = any_value();
    Seq member = {Grammar::ref(string(0, -1))};
    append(member, ws());
    member.push_back(g_.byte(':'));
    append(member, ws());
    member.push_back(Grammar::ref(value));
    g_.add_alternative(any_object_, {Grammar::ref(list_of(member, 0, -1, '{', '}'))});
    return any_object_;
  }

  // The rule for values valid under `schema`; `root` resolves $ref.
  int32_t schema(const Json& s, const Json& root, const std::string& path, int depth) {
    if (depth > kMaxSchemaDepth) throw Error(path + ": the schema nests too deep");
    if (s.is_boolean()) {
      if (!s.get<bool>()) throw Error(path + ": the schema `false` allows no value");
      return any_value();
    }
    if (!s.is_object()) throw Error(path + ": a schema must be an object or a boolean");
    if (s.contains("$ref")) return ref(s, root, path, depth);

    std::vector<int32_t> alternatives;
    if (auto it = s.find("nullable"); it != s.end()) {
      if (!it->is_boolean()) throw Error(path + ".nullable: must be true or false");
      if (it->get<bool>()) alternatives.push_back(literal_rule("null"));
    }
    if (s.contains("const")) {
      alternatives.push_back(literal_rule(s["const"].dump()));
      return choice_of(alternatives);
    }
    if (s.contains("enum")) {
      const Json& values = s["enum"];
      if (!values.is_array() || values.empty()) throw Error(path + ".enum: must be a non-empty array");
      for (const auto& v : values) alternatives.push_back(literal_rule(v.dump()));
      return choice_of(alternatives);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      const Json& branches = s[key];
      if (!branches.is_array() || branches.empty()) throw Error(path + "." + key + ": must be a non-empty array");
      for (size_t i = 0; i < branches.size(); ++i)
        alternatives.push_back(schema(branches[i], root, path + "." + key + "[" + std::to_string(i) + "]", depth + 1));
      return choice_of(alternatives);
    }
    if (s.contains("allOf")) return schema(merge_all_of(s, path), root, path, depth + 1);

    std::vector<std::string> types;
    if (s.contains("type")) {
      const Json& t = s["type"];
      if (t.is_string())
        types.push_back(t.get<std::string>());
      else if (t.is_array())
        for (const auto& x : t) {
          if (!x.is_string()) throw Error(path + ".type: entries must be strings");
          types.push_back(x.get<std::string>());
        }
      else
        throw Error(path + ".type: must be a string or an array of strings");
    } else if (s.contains("properties") || s.contains("additionalProperties") || s.contains("required")) {
      types.push_back("object");
    } else if (s.contains("items") || s.contains("prefixItems")) {
      types.push_back("array");
    } else {
      alternatives.push_back(any_value());
    }
    for (const auto& type : types) {
      if (type == "object")
        alternatives.push_back(object(s, root, path, depth));
      else if (type == "array")
        alternatives.push_back(array(s, root, path, depth));
      else if (type == "string")
        alternatives.push_back(string(bound(s, "minLength", 0, path), bound(s, "maxLength", -1, path)));
      else if (type == "number")
        alternatives.push_back(number());
      else if (type == "integer")
        alternatives.push_back(integer_free());
      else if (type == "boolean")
        alternatives.push_back(choice_of({literal_rule("true"), literal_rule("false")}));
      else if (type == "null")
        alternatives.push_back(literal_rule("null"));
      else
        throw Error(path + ".type: unknown type \"" + type + "\"");
    }
    return choice_of(alternatives);
  }

  Grammar::Sequence literal(std::string_view text) { return g_.literal(text); }

 private:
  static void append(Seq& a, const Seq& b) { a.insert(a.end(), b.begin(), b.end()); }

  int32_t choice_of(const std::vector<int32_t>& rules) {
    if (rules.size() == 1) return rules[0];
    std::vector<Seq> alts;
    for (int32_t r : rules) alts.push_back({Grammar::ref(r)});
    return g_.choice(alts);
  }

  int32_t literal_rule(const std::string& text) { return g_.choice({g_.literal(text)}); }

  // Nothing, one space, or a newline and an indent.
  int32_t whitespace() {
    const int32_t indent = g_.repeat({g_.byte(' ')}, 0, 16);
    return g_.choice({{}, {g_.byte(' ')}, {g_.byte('\n'), Grammar::ref(indent)}});
  }

  // One character of a JSON string: printable ASCII but '"' and '\', a
  // well-formed UTF-8 sequence, or an escape (no lone surrogates).
  int32_t string_char() {
    const Grammar::Element cont = g_.bytes(range(0x80, 0xBF));
    ByteSet ascii = range(0x20, 0x7F);
    ascii.reset('"');
    ascii.reset('\\');
    ByteSet e1_ec = range(0xE1, 0xEC);
    e1_ec.set(0xEE);
    e1_ec.set(0xEF);
    const Grammar::Element hex = g_.bytes(chars("0123456789abcdefABCDEF"));
    const int32_t unicode = g_.choice({
        {g_.bytes(chars("0123456789abcABC")), hex, hex, hex},
        {g_.bytes(chars("dD")), g_.bytes(range('0', '7')), hex, hex},
        {g_.bytes(chars("efEF")), hex, hex, hex},
    });
    return g_.choice({
        {g_.bytes(ascii)},
        {g_.bytes(range(0xC2, 0xDF)), cont},
        {g_.byte(0xE0), g_.bytes(range(0xA0, 0xBF)), cont},
        {g_.bytes(e1_ec), cont, cont},
        {g_.byte(0xED), g_.bytes(range(0x80, 0x9F)), cont},
        {g_.byte(0xF0), g_.bytes(range(0x90, 0xBF)), cont, cont},
        {g_.bytes(range(0xF1, 0xF3)), cont, cont, cont},
        {g_.byte(0xF4), g_.bytes(range(0x80, 0x8F)), cont, cont},
        {g_.byte('\\'), g_.bytes(chars("\"\\/bfnrt"))},
        {g_.byte('\\'), g_.byte('u'), Grammar::ref(unicode)},
    });
  }

  int32_t string(int64_t min, int64_t max) {
    const auto key = std::make_pair(min, max);
    if (auto it = strings_.find(key); it != strings_.end()) return it->second;
    const int32_t body = g_.repeat({Grammar::ref(string_char_)}, min, max);
    const int32_t rule = g_.choice({{g_.byte('"'), Grammar::ref(body), g_.byte('"')}});
    strings_.emplace(key, rule);
    return rule;
  }

  // Digits are bounded: a model must not write numbers forever.
  int32_t integer_part() {
    const int32_t digits = g_.repeat({g_.bytes(range('0', '9'))}, 0, 15);
    return g_.choice({{g_.byte('0')}, {g_.bytes(range('1', '9')), Grammar::ref(digits)}});
  }

  int32_t integer_free() {
    if (integer_ >= 0) return integer_;
    const int32_t sign = g_.optional({g_.byte('-')});
    integer_ = g_.choice({{Grammar::ref(sign), Grammar::ref(integer_part())}});
    return integer_;
  }

  int32_t number() {
    if (number_ >= 0) return number_;
    const int32_t digits = g_.repeat({g_.bytes(range('0', '9'))}, 1, 15);
    const int32_t fraction = g_.optional({g_.byte('.'), Grammar::ref(digits)});
    const int32_t exp_digits = g_.repeat({g_.bytes(range('0', '9'))}, 1, 3);
    const int32_t exp_sign = g_.optional({g_.bytes(chars("+-"))});
    const int32_t exponent = g_.optional({g_.bytes(chars("eE")), Grammar::ref(exp_sign), Grammar::ref(exp_digits)});
    number_ = g_.choice({{Grammar::ref(integer_free()), Grammar::ref(fraction), Grammar::ref(exponent)}});
    return number_;
  }

  // open ws (item (ws , ws item){min-1,max-1})? ws close
  int32_t list_of(const Seq& item, int64_t min, int64_t max, char open = '[', char close = ']') {
    Seq more = ws();
    more.push_back(g_.byte(','));
    append(more, ws());
    append(more, item);
    const int32_t rest = g_.repeat(more, std::max<int64_t>(min - 1, 0), max < 0 ? -1 : max - 1);
    Seq filled = {g_.byte(static_cast<uint8_t>(open))};
    append(filled, ws());
    append(filled, item);
    filled.push_back(Grammar::ref(rest));
    append(filled, ws());
    filled.push_back(g_.byte(static_cast<uint8_t>(close)));
    std::vector<Seq> alts;
    if (max != 0) alts.push_back(filled);
    if (min == 0) {
      Seq empty = {g_.byte(static_cast<uint8_t>(open))};
      append(empty, ws());
      empty.push_back(g_.byte(static_cast<uint8_t>(close)));
      alts.push_back(empty);
    }
    return g_.choice(alts);
  }

  int64_t bound(const Json& s, const char* key, int64_t fallback, const std::string& path) {
    if (!s.contains(key)) return fallback;
    const Json& v = s[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      throw Error(path + "." + key + ": must be a non-negative integer");
    const int64_t n = v.get<int64_t>();
    if (fallback < 0 && n > kMaxBound) return -1;  // a large maximum: unbounded
    if (n > kMaxBound) throw Error(path + "." + key + ": at most " + std::to_string(kMaxBound) + " is supported");
    return n;
  }

  int32_t array(const Json& s, const Json& root, const std::string& path, int depth) {
    const int64_t min = bound(s, "minItems", 0, path), max = bound(s, "maxItems", -1, path);
    if (max >= 0 && max < min) throw Error(path + ": maxItems is less than minItems");
    const bool items_allowed = !(s.contains("items") && s["items"].is_boolean() && !s["items"].get<bool>());
    const int32_t item =
        s.contains("items") && items_allowed ? schema(s["items"], root, path + ".items", depth + 1) : any_value();
    if (!s.contains("prefixItems")) return list_of({Grammar::ref(item)}, min, max);
    const Json& prefix = s["prefixItems"];
    if (!prefix.is_array() || prefix.empty()) throw Error(path + ".prefixItems: must be a non-empty array");
    Seq seq = {g_.byte('[')};
    append(seq, ws());
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (i > 0) {
        append(seq, ws());
        seq.push_back(g_.byte(','));
        append(seq, ws());
      }
      seq.push_back(Grammar::ref(schema(prefix[i], root, path + ".prefixItems[" + std::to_string(i) + "]", depth + 1)));
    }
    if (items_allowed) {
      Seq more = ws();
      more.push_back(g_.byte(','));
      append(more, ws());
      more.push_back(Grammar::ref(item));
      seq.push_back(Grammar::ref(g_.repeat(more, 0, -1)));
    }
    append(seq, ws());
    seq.push_back(g_.byte(']'));
    return g_.choice({seq});
  }

  int32_t object(const Json& s, const Json& root, const std::string& path, int depth) {
    struct Property {
      std::string key;
      int32_t value;
      bool required;
    };
    std::vector<Property> props;
    std::vector<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) throw Error(path + ".required: must be an array of strings");
      for (const auto& r : s["required"]) {
        if (!r.is_string()) throw Error(path + ".required: must be an array of strings");
        required.push_back(r.get<std::string>());
      }
    }
    auto is_required = [&](const std::string& k) {
      return std::find(required.begin(), required.end(), k) != required.end();
    };
    if (s.contains("properties")) {
      if (!s["properties"].is_object()) throw Error(path + ".properties: must be an object");
      for (const auto& [key, sub] : s["properties"].items())
        props.push_back({key, schema(sub, root, path + ".properties." + key, depth + 1), is_required(key)});
    }
    for (const auto& r : required) {  // required but not described: any value
      if (std::none_of(props.begin(), props.end(), [&](const Property& p) { return p.key == r; }))
        props.push_back({r, any_value(), true});
    }
    if (props.empty()) {
      const Json additional = s.value("additionalProperties", Json(true));
      if (additional.is_boolean() && !additional.get<bool>()) return literal_rule("{}");
      const int32_t value =
          additional.is_boolean() ? any_value() : schema(additional, root, path + ".additionalProperties", depth + 1);
      Seq member = {Grammar::ref(string(0, -1))};
      append(member, ws());
      member.push_back(g_.byte(':'));
      append(member, ws());
      member.push_back(Grammar::ref(value));
      return list_of(member, 0, -1, '{', '}');
    }
    // rest[i][c]: the members from property i on, c: whether one came before
    // (so a comma is due). Optional properties may be skipped, order is kept.
    const size_t n = props.size();
    std::vector<std::array<int32_t, 2>> rest(n + 1);
    for (size_t i = n + 1; i-- > 0;) {
      for (int comma = 0; comma < 2; ++comma) {
        std::vector<Seq> alts;
        bool all_optional = true;
        for (size_t j = i; j < n && all_optional; ++j) {
          Seq alt;
          if (comma) {
            append(alt, ws());
            alt.push_back(g_.byte(','));
          }
          append(alt, ws());
          append(alt, g_.literal(Json(props[j].key).dump()));
          append(alt, ws());
          alt.push_back(g_.byte(':'));
          append(alt, ws());
          alt.push_back(Grammar::ref(props[j].value));
          alt.push_back(Grammar::ref(rest[j + 1][1]));
          alts.push_back(std::move(alt));
          all_optional = !props[j].required;
        }
        if (all_optional) alts.push_back({});  // every remaining property may be left out
        rest[i][comma] = g_.choice(alts);
      }
    }
    Seq seq = {g_.byte('{'), Grammar::ref(rest[0][0])};
    append(seq, ws());
    seq.push_back(g_.byte('}'));
    return g_.choice({seq});
  }

  int32_t ref(const Json& s, const Json& root, const std::string& path, int depth) {
    if (!s["$ref"].is_string()) throw Error(path + ".$ref: must be a string");
    const std::string target = s["$ref"].get<std::string>();
    if (auto it = refs_.find(target); it != refs_.end()) return it->second;
    if (target.empty() || target[0] != '#')
      throw Error(path + ".$ref: only references into the same schema (#/…) are supported");
    const Json* resolved = &root;
    if (target.size() > 1) {
      try {
        resolved = &root.at(Json::json_pointer(target.substr(1)));
      } catch (const std::exception&) {
        throw Error(path + ".$ref: \"" + target + "\" does not resolve");
      }
    }
    // Registered before it is built, so a recursive schema refers to itself.
    const int32_t rule = g_.add_rule();
    refs_.emplace(target, rule);
    g_.add_alternative(rule, {Grammar::ref(schema(*resolved, root, target, depth + 1))});
    return rule;
  }

  static Json merge_all_of(const Json& s, const std::string& path) {
    const Json& parts = s["allOf"];
    if (!parts.is_array() || parts.empty()) throw Error(path + ".allOf: must be a non-empty array");
    Json merged = s;
    merged.erase("allOf");
    for (const auto& part : parts) {
      if (!part.is_object()) throw Error(path + ".allOf: entries must be objects");
      for (const auto& [key, value] : part.items()) {
        if (key == "properties" && merged.contains("properties")) {
          for (const auto& [name, sub] : value.items()) merged["properties"][name] = sub;
        } else if (key == "required" && merged.contains("required") && value.is_array()) {
          for (const auto& r : value) merged["required"].push_back(r);
        } else {
          merged[key] = value;
        }
      }
    }
    return merged;
  }

  Grammar& g_;
  int32_t ws_ = -1, string_char_ = -1, any_value_ = -1, any_object_ = -1, integer_ = -1, number_ = -1;
  std::map<std::pair<int64_t, int64_t>, int32_t> strings_;
  std::map<std::string, int32_t> refs_;
};

}  // namespace

Grammar json_object_grammar() {
  Grammar g;
  Builder b(g);
  g.set_root(b.any_object());
  return g;
}

Grammar json_schema_grammar(const Json& schema) {
  Grammar g;
  Builder b(g);
  g.set_root(b.schema(schema, schema, "schema", 0));
  return g;
}

Grammar tool_call_grammar(const std::vector<ToolSchema>& tools) {
  if (tools.empty()) throw Error("no tool to call");
  Grammar g;
  Builder b(g);
  std::vector<Grammar::Sequence> calls;
  for (const auto& tool : tools) {
    Grammar::Sequence seq = b.literal("{\"name\": " + Json(tool.name).dump() + ", \"parameters\": ");
    const Json params = tool.parameters.is_null() ? Json{{"type", "object"}} : tool.parameters;
    seq.push_back(Grammar::ref(b.schema(params, params, tool.name + ".parameters", 0)));
    seq.push_back(g.byte('}'));
    calls.push_back(std::move(seq));
  }
  g.set_root(g.choice(calls));
  return g;
}

}  // namespace mobilellm::chat
