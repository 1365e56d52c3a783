#include "chat/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "runtime/error.h"
#include "chat/jinja/limits.h"
#include "tokenizer/utf8.h"

namespace mobilellm::jinja {

const Value* Args::get(const std::string& name, size_t index) const {
  for (const auto& [k, v] : keyword)
    if (k == name) return &v;
  return index < positional.size() ? &positional[index] : nullptr;
}

namespace {

uint8_t nested_depth(int deepest_item) {
  if (deepest_item + 1 > kMaxValueDepth)
    throw Error("chat template: lists and dicts nest deeper than " + std::to_string(kMaxValueDepth) + " levels");
  return static_cast<uint8_t>(deepest_item + 1);
}

}  // namespace

Value::Value(List l) {
  check_list_size(l.size());
  int deepest = 0;
  for (const Value& v : l) {
    deepest = std::max<int>(deepest, v.depth_);
    holds_namespace_ = holds_namespace_ || v.holds_namespace();
  }
  depth_ = nested_depth(deepest);
  data_ = std::make_shared<List>(std::move(l));
}

Value::Value(Dict d) {
  check_list_size(d.size());
  int deepest = 0;
  for (const auto& kv : d) {
    deepest = std::max<int>(deepest, kv.second.depth_);
    holds_namespace_ = holds_namespace_ || kv.second.holds_namespace();
  }
  depth_ = nested_depth(deepest);
  data_ = std::make_shared<Dict>(std::move(d));
}

Value Value::iterator(List items, std::string type, bool view) {
  Value list(std::move(items));  // the list's bounds and depth
  Value v = list;
  v.data_ = std::make_shared<Iterator>(
      Iterator{std::move(*std::get<std::shared_ptr<List>>(list.data_)), std::move(type), view});
  return v;
}

Value Value::from_json(const Json& j, int depth) {
  if (depth > kMaxValueDepth)
    throw Error("chat template: the context's JSON nests deeper than " + std::to_string(kMaxValueDepth) + " levels");
  switch (j.type()) {
    case Json::value_t::null: return Value(None{});
    case Json::value_t::boolean: return Value(j.get<bool>());
    case Json::value_t::number_integer: return Value(j.get<int64_t>());
    case Json::value_t::number_unsigned: return Value(static_cast<int64_t>(j.get<uint64_t>()));
    case Json::value_t::number_float: return Value(j.get<double>());
    case Json::value_t::string: return Value(j.get<std::string>());
    case Json::value_t::array: {
      List l;
      for (const auto& e : j) l.push_back(from_json(e, depth + 1));
      return Value(std::move(l));
    }
    case Json::value_t::object: {
      Dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d.emplace_back(it.key(), from_json(it.value(), depth + 1));
      return Value(std::move(d));
    }
    default: throw Error("chat template: unsupported JSON value");
  }
}

Json Value::to_json() const {
  if (is_none()) return nullptr;
  if (is_bool()) return as_bool();
  if (is_int()) return as_int();
  if (is_float()) return std::get<double>(data_);
  if (is_string()) return as_string();
  if (is_list()) {
    Json j = Json::array();
    for (const auto& e : as_list()) j.push_back(e.to_json());
    return j;
  }
  if (is_dict() || is_namespace()) {
    Json j = Json::object();
    for (const auto& [k, v] : is_dict() ? as_dict() : as_namespace().attrs) j[k] = v.to_json();
    return j;
  }
  throw Error("chat template: " + type_name() + " is not JSON serializable");
}

const Value* Value::find(const std::string& key) const {
  const Dict* d = is_dict() ? &as_dict() : is_namespace() ? &as_namespace().attrs : nullptr;
  if (!d) return nullptr;
  for (const auto& [k, v] : *d)
    if (k == key) return &v;
  return nullptr;
}

bool Value::truthy() const {
  if (is_undefined() || is_none()) return false;
  if (is_bool()) return as_bool();
  if (is_int()) return as_int() != 0;
  if (is_float()) return std::get<double>(data_) != 0;
  if (is_string()) return !as_string().empty();
  if (is_list()) return !as_list().empty();
  if (is_dict()) return !as_dict().empty();
  if (is_iterator()) return !as_iterator().view || !as_iterator().items.empty();
  return true;
}

std::string Value::type_name() const {
  if (is_iterator()) return as_iterator().type;
  if (is_undefined()) return "undefined";
  if (is_none()) return "NoneType";
  if (is_bool()) return "bool";
  if (is_int()) return "int";
  if (is_float()) return "float";
  if (is_string()) return "str";
  if (is_list()) return "list";
  if (is_dict()) return "dict";
  if (is_namespace()) return "Namespace";
  return "function";
}

namespace {

std::string python_string_repr(const std::string& s) {
  char quote = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, quote);
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    char32_t cp = c;
    size_t n = c < 0x80 ? 1 : tokenizer::utf8_sequence(s, i, &cp);
    if (n == 0) n = 1;
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s, i, n);
    }
    i += n - 1;
  }
  return out + quote;
}

void dump_string(const std::string& s, bool ensure_ascii, std::string& out) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    char buf[16];
    if (c < 0x20 || (ensure_ascii && c == 0x7F)) {
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c >= 0x80 && ensure_ascii) {
      char32_t cp = 0xFFFD;
      size_t n = tokenizer::utf8_sequence(s, i, &cp);
      if (n == 0) n = 1;
      if (cp >= 0x10000) {
        cp -= 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      }
      out += buf;
      i += n - 1;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void dump(const Value& v, const JsonStyle& st, int level, std::string& out) {
  charge_steps(1);
  check_string_size(out.size());
  bool indented = st.indent >= 0 || st.indent_text;
  const std::string item_sep = !st.item_sep.empty() ? st.item_sep : indented ? "," : ", ";
  const std::string key_sep = !st.key_sep.empty() ? st.key_sep : ": ";
  auto newline = [&](int lv) {
    if (!indented) return;
    out += '\n';
    if (st.indent_text) {
      check_string_size(out.size() + st.indent_text->size() * static_cast<size_t>(lv));
      for (int i = 0; i < lv; ++i) out += *st.indent_text;
      return;
    }
    size_t pad = static_cast<size_t>(st.indent) * static_cast<size_t>(lv);
    check_string_size(out.size() + pad);
    out.append(pad, ' ');
  };
  if (v.is_none()) {
    out += "null";
  } else if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_int()) {
    out += std::to_string(v.as_int());
  } else if (v.is_float()) {
    double d = v.as_number();
    out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : python_float_repr(d);
  } else if (v.is_string()) {
    dump_string(v.as_string(), st.ensure_ascii, out);
  } else if (v.is_list()) {
    const List& l = v.as_list();
    if (l.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < l.size(); ++i) {
      if (i) out += item_sep;
      newline(level + 1);
      dump(l[i], st, level + 1, out);
    }
    newline(level);
    out += ']';
  } else if (v.is_dict() || v.is_namespace()) {
    Dict d = v.is_dict() ? v.as_dict() : v.as_namespace().attrs;
    if (d.empty()) {
      out += "{}";
      return;
    }
    if (st.sort_keys)
      std::stable_sort(d.begin(), d.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    out += '{';
    for (size_t i = 0; i < d.size(); ++i) {
      if (i) out += item_sep;
      newline(level + 1);
      dump_string(d[i].first, st.ensure_ascii, out);
      out += key_sep;
      dump(d[i].second, st, level + 1, out);
    }
    newline(level);
    out += '}';
  } else {
    throw Error("chat template: Object of type " + v.type_name() + " is not JSON serializable");
  }
}

}  // namespace

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // "-1.2345e+16": shortest round-trip digits
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  int exp = std::stoi(sci.substr(e + 1));
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];  // "e-308" at most; sized for any int so the compiler sees no truncation
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return out + eb;
  }
  if (exp >= 0) {
    if (digits.size() <= static_cast<size_t>(exp) + 1)
      return out + digits + std::string(exp + 1 - digits.size(), '0') + ".0";
    return out + digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
  }
  return out + "0." + std::string(-exp - 1, '0') + digits;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': append_bounded(out, "&amp;"); break;
      case '<': append_bounded(out, "&lt;"); break;
      case '>': append_bounded(out, "&gt;"); break;
      case '"': append_bounded(out, "&#34;"); break;
      case '\'': append_bounded(out, "&#39;"); break;
      default: append_bounded(out, std::string_view(&c, 1));
    }
  }
  return out;
}

std::string python_json_dumps(const Value& v, const JsonStyle& style) {
  std::string out;
  dump(v, style, 0, out);
  return out;
}

std::string Value::str() const {
  if (is_undefined()) return "";
  if (is_string()) return as_string();
  return repr();
}

std::string Value::repr() const {
  charge_steps(1);
  if (is_undefined()) return "Undefined";
  if (is_none()) return "None";
  if (is_bool()) return as_bool() ? "True" : "False";
  if (is_int()) return std::to_string(as_int());
  if (is_float()) return python_float_repr(std::get<double>(data_));
  if (is_string()) return python_string_repr(as_string());
  if (is_list()) {
    std::string out = tuple_ ? "(" : "[";
    for (size_t i = 0; i < as_list().size(); ++i) {
      if (i) out += ", ";
      append_bounded(out, as_list()[i].repr());
    }
    if (tuple_ && as_list().size() == 1) out += ",";
    return out + (tuple_ ? ")" : "]");
  }
  if (is_dict() || is_namespace()) {
    const Dict& d = is_dict() ? as_dict() : as_namespace().attrs;
    std::string out = is_dict() ? "{" : "<Namespace {";
    for (size_t i = 0; i < d.size(); ++i) {
      if (i) out += ", ";
      append_bounded(out, python_string_repr(d[i].first) + ": " + d[i].second.repr());
    }
    return out + (is_dict() ? "}" : "}>");
  }
  if (is_iterator()) {
    const Iterator& it = as_iterator();
    // Python adds the object's address, which no other implementation can match.
    if (!it.view) return "<" + it.type + " object>";
    return it.type + "(" + Value(it.items).repr() + ")";
  }
  return "<function>";
}

List Value::iterate() const {
  if (is_undefined()) return {};
  if (is_list()) {
    charge_steps(static_cast<int64_t>(as_list().size()));
    return as_list();
  }
  if (is_dict()) {
    List keys;
    for (const auto& kv : as_dict()) keys.emplace_back(kv.first);
    return keys;
  }
  if (is_iterator()) {
    Iterator& it = as_iterator();
    List rest(it.items.begin() + static_cast<std::ptrdiff_t>(it.next), it.items.end());
    if (!it.view) it.next = it.items.size();
    charge_steps(static_cast<int64_t>(rest.size()));
    return rest;
  }
  if (is_string()) {
    List chars;
    const std::string& s = as_string();
    for (size_t i = 0; i < s.size();) {
      char32_t cp;
      size_t n = tokenizer::utf8_sequence(s, i, &cp);
      if (n == 0) n = 1;
      check_list_size(chars.size() + 1);
      chars.emplace_back(s.substr(i, n));
      i += n;
    }
    return chars;
  }
  throw Error("chat template: '" + type_name() + "' object is not iterable");
}

bool operator==(const Value& a, const Value& b) {
  charge_steps(1);
  if ((a.is_number() || a.is_bool()) && (b.is_number() || b.is_bool())) {
    if (a.is_float() || b.is_float()) return a.as_number() == b.as_number();
    auto ai = a.is_bool() ? static_cast<int64_t>(a.as_bool()) : a.as_int();
    auto bi = b.is_bool() ? static_cast<int64_t>(b.as_bool()) : b.as_int();
    return ai == bi;
  }
  if (a.is_string() && b.is_string()) return a.as_string() == b.as_string();
  if (a.is_none() && b.is_none()) return true;
  if (a.is_undefined() && b.is_undefined()) return true;
  if (a.is_list() && b.is_list()) return a.as_list() == b.as_list();
  if (a.is_iterator() && b.is_iterator()) return &a.as_iterator() == &b.as_iterator();  // Python: identity
  if (a.is_dict() && b.is_dict()) {
    if (a.as_dict().size() != b.as_dict().size()) return false;
    for (const auto& [k, v] : a.as_dict()) {
      const Value* other = b.find(k);
      if (!other || !(*other == v)) return false;
    }
    return true;
  }
  return false;
}

bool less(const Value& a, const Value& b) {
  charge_steps(1);
  if ((a.is_number() || a.is_bool()) && (b.is_number() || b.is_bool())) return a.as_number() < b.as_number();
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list())
    return std::lexicographical_compare(a.as_list().begin(), a.as_list().end(), b.as_list().begin(), b.as_list().end(),
                                        less);
  throw Error("chat template: '<' not supported between '" + a.type_name() + "' and '" + b.type_name() + "'");
}

}  // namespace mobilellm::jinja
