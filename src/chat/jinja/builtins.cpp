#include "chat/jinja/builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>

#include "runtime/error.h"
#include "chat/jinja/limits.h"
#include "tokenizer/unicode_class.h"
#include "tokenizer/utf8.h"

namespace mobilellm::jinja {
namespace {

const Value kUndefinedArg;

const Value& arg(const Args& a, const std::string& name, size_t index) {
  const Value* v = a.get(name, index);
  return v ? *v : kUndefinedArg;
}

void require_defined(const Value& v, int line) {
  if (v.is_undefined()) fail_at(line, "'" + v.undefined_name() + "' is undefined");
}

const std::string& want_string(const Value& v, int line, const char* what) {
  require_defined(v, line);
  if (!v.is_string()) fail_at(line, std::string(what) + " expects a string, got " + v.type_name());
  return v.as_string();
}

bool is_space_at(const std::string& s, size_t i, size_t* n) {
  char32_t cp;
  *n = tokenizer::utf8_sequence(s, i, &cp);
  if (*n == 0) {
    *n = 1;
    return false;
  }
  return tokenizer::is_python_space(cp);
}

// Python str.strip / lstrip / rstrip, with or without a set of characters.
std::string strip(const std::string& s, const Value& chars, bool left, bool right) {
  auto strip_char = [&](size_t i, size_t* n) {
    if (chars.is_string()) {
      char32_t cp;
      *n = tokenizer::utf8_sequence(s, i, &cp);
      if (*n == 0) *n = 1;
      return chars.as_string().find(s.substr(i, *n)) != std::string::npos;
    }
    return is_space_at(s, i, n);
  };
  size_t begin = 0, end = s.size(), n;
  if (left)
    while (begin < end && strip_char(begin, &n)) begin += n;
  if (right)
    while (end > begin) {
      size_t start = end - 1;
      while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      if (!strip_char(start, &n)) break;
      end = start;
    }
  return s.substr(begin, end - begin);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to, int64_t count) {
  if (from.empty()) return s;
  std::string out;
  size_t pos = 0, found;
  for (int64_t done = 0; (count < 0 || done < count) && (found = s.find(from, pos)) != std::string::npos; ++done) {
    append_bounded(out, std::string_view(s).substr(pos, found - pos));
    append_bounded(out, to);
    pos = found + from.size();
  }
  append_bounded(out, std::string_view(s).substr(pos));
  return out;
}

List split(const std::string& s, const Value& sep, int64_t maxsplit) {
  List out;
  if (sep.is_string() && !sep.as_string().empty()) {
    const std::string& d = sep.as_string();
    size_t pos = 0, next;
    while ((maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) &&
           (next = s.find(d, pos)) != std::string::npos) {
      out.emplace_back(s.substr(pos, next - pos));
      pos = next + d.size();
    }
    out.emplace_back(s.substr(pos));
    return out;
  }
  size_t i = 0, n;
  while (i < s.size()) {
    while (i < s.size() && is_space_at(s, i, &n)) i += n;
    if (i >= s.size()) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
      out.emplace_back(strip(s.substr(i), Value(None{}), false, true));
      break;
    }
    size_t start = i;
    while (i < s.size() && !is_space_at(s, i, &n)) i += n;
    out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

std::string case_map(const std::string& s, bool upper) {
  std::string out = s;
  for (char& c : out)
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string capitalize(const std::string& s) {
  std::string out = case_map(s, false);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string title(const std::string& s) {
  std::string out = s;
  bool start = true;
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalpha(u)) {
      c = static_cast<char>(start ? std::toupper(u) : std::tolower(u));
      start = false;
    } else {
      start = u < 0x80 && !std::isdigit(u) && c != '\'';
    }
  }
  return out;
}

Value bound(Function f) { return Value(std::move(f)); }

Value string_method(const std::string& s, bool markup, const std::string& name, int line) {
  if (name == "startswith" || name == "endswith") {
    bool start = name == "startswith";
    return bound([s, start, line](const Args& a) {
      const Value& p = arg(a, "prefix", 0);
      List options = p.is_list() ? p.as_list() : List{p};
      for (const Value& o : options) {
        const std::string& x = want_string(o, line, start ? "startswith" : "endswith");
        if (start ? s.starts_with(x) : s.ends_with(x)) return Value(true);
      }
      return Value(false);
    });
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip")
    return bound(
        [s, name](const Args& a) { return Value(strip(s, arg(a, "chars", 0), name != "rstrip", name != "lstrip")); });
  if (name == "split")
    return bound([s](const Args& a) {
      const Value& m = arg(a, "maxsplit", 1);
      return Value(split(s, arg(a, "sep", 0), m.is_int() ? m.as_int() : -1));
    });
  if (name == "upper" || name == "lower")
    return bound([s, name](const Args&) { return Value(case_map(s, name == "upper")); });
  if (name == "capitalize") return bound([s](const Args&) { return Value(capitalize(s)); });
  if (name == "title") return bound([s](const Args&) { return Value(title(s)); });
  if (name == "replace")
    return bound([s, line](const Args& a) {
      const Value& c = arg(a, "count", 2);
      return Value(replace_all(s, want_string(arg(a, "old", 0), line, "replace"),
                               want_string(arg(a, "new", 1), line, "replace"), c.is_int() ? c.as_int() : -1));
    });
  if (name == "find")
    return bound([s, line](const Args& a) {
      size_t p = s.find(want_string(arg(a, "sub", 0), line, "find"));
      return Value(p == std::string::npos ? int64_t{-1} : static_cast<int64_t>(p));
    });
  if (name == "join")
    return bound([s, markup, line](const Args& a) {
      std::string out;
      List items = arg(a, "iterable", 0).iterate();
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) append_bounded(out, s);
        const std::string& item = want_string(items[i], line, "join");
        append_bounded(out, markup && !items[i].is_markup() ? html_escape(item) : item);  // Markup.join escapes
      }
      return markup ? Value::markup(std::move(out)) : Value(std::move(out));
    });
  return Value::undefined(name);
}

List dict_items(const Dict& d) {
  List out;
  for (const auto& [k, v] : d) out.push_back(Value::tuple(List{Value(k), v}));
  return out;
}

// Python's dict.items() / keys() / values(): views, not lists.
Value dict_method(const Value& d, const std::string& name) {
  if (name == "items")
    return bound([d](const Args&) { return Value::iterator(dict_items(d.as_dict()), "dict_items", true); });
  if (name == "keys" || name == "values")
    return bound([d, name](const Args&) {
      List out;
      for (const auto& [k, v] : d.as_dict()) out.push_back(name == "keys" ? Value(k) : v);
      return Value::iterator(std::move(out), "dict_" + name, true);
    });
  if (name == "get")
    return bound([d](const Args& a) {
      const Value& key = arg(a, "key", 0);
      const Value* v = key.is_string() ? d.find(key.as_string()) : nullptr;
      return v ? *v : a.get("default", 1) ? *a.get("default", 1) : Value(None{});
    });
  return Value::undefined(name);
}

Value attribute_of(const Value& item, const Value& attribute, int line) {
  if (attribute.is_int()) return get_item(item, attribute, line);
  Value v = item;
  for (const Value& part : split(want_string(attribute, line, "attribute"), Value("."), -1))
    v = get_attr(v, part.as_string(), line);
  return v;
}

// jinja2's sort, dictsort and unique compare strings lowercased unless case_sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
  return v.is_string() && !case_sensitive ? Value(case_map(v.as_string(), false)) : v;
}

// `items` in the order of `keys`, stably (Python's sorted(reverse=...) keeps equal items in order).
List sorted_by(List items, const List& keys, bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return reverse ? less(keys[y], keys[x]) : less(keys[x], keys[y]); });
  List out;
  for (size_t i : order) out.push_back(std::move(items[i]));
  return out;
}

// jinja2's soft_str, which its string filters (trim, upper, replace ...)
// apply first: str(None) is "None", an undefined value "".
std::string soft_str(const Value& v) { return v.str(); }

}  // namespace

void fail_at(int line, const std::string& what) {
  throw Error("chat template line " + std::to_string(line) + ": " + what);
}

int64_t length(const Value& v, int line) {
  if (v.is_undefined()) return 0;
  if (v.is_string()) {
    int64_t n = 0;
    for (char c : v.as_string()) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
  }
  if (v.is_list()) return static_cast<int64_t>(v.as_list().size());
  if (v.is_dict()) return static_cast<int64_t>(v.as_dict().size());
  if (v.is_iterator() && v.as_iterator().view) return static_cast<int64_t>(v.as_iterator().items.size());
  fail_at(line, "object of type '" + v.type_name() + "' has no len()");
}

Value get_attr(const Value& obj, const std::string& name, int line) {
  if (obj.is_undefined()) fail_at(line, "'" + obj.undefined_name() + "' is undefined");
  if (obj.is_string()) return string_method(obj.as_string(), obj.is_markup(), name, line);
  if (obj.is_dict()) {
    Value m = dict_method(obj, name);
    if (!m.is_undefined()) return m;
  }
  if (const Value* v = obj.find(name)) return *v;
  return Value::undefined(name);
}

Value get_item(const Value& obj, const Value& key, int line) {
  if (obj.is_undefined()) fail_at(line, "'" + obj.undefined_name() + "' is undefined");
  if ((obj.is_list() || obj.is_string()) && key.is_int()) {
    List chars;
    const List& items = obj.is_list() ? obj.as_list() : (chars = obj.iterate());
    int64_t i = key.as_int(), n = static_cast<int64_t>(items.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) {
      // Appended piece by piece: GCC 12's -Wrestrict misfires on "[" + std::to_string(…) + "]".
      std::string name = "[";
      name += std::to_string(key.as_int());
      name += ']';
      return Value::undefined(name);
    }
    return items[i];
  }
  if (key.is_string()) {
    if (const Value* v = obj.find(key.as_string())) return *v;
    return get_attr(obj, key.as_string(), line);
  }
  return Value::undefined(key.repr());
}

bool apply_test(const std::string& name, const Value& v, const Args& a, int line) {
  const Value& x = arg(a, "", 0);
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number() || v.is_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined() || v.is_iterator();
  if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  if (name == "callable") return v.is_function();
  if (name == "even" || name == "odd") {
    if (!v.is_int()) fail_at(line, "'" + name + "' needs an integer");
    return (v.as_int() % 2 == 0) == (name == "even");
  }
  if (name == "divisibleby") {
    if (!v.is_int() || !x.is_int() || x.as_int() == 0) fail_at(line, "'divisibleby' needs integers");
    return v.as_int() % x.as_int() == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") return v == x;
  if (name == "ne" || name == "!=") return !(v == x);
  if (name == "lt" || name == "lessthan" || name == "<") return less(v, x);
  if (name == "le" || name == "<=") return !less(x, v);
  if (name == "gt" || name == "greaterthan" || name == ">") return less(x, v);
  if (name == "ge" || name == ">=") return !less(v, x);
  if (name == "in") {
    if (x.is_string()) {
      if (!v.is_string()) fail_at(line, "'in <string>' requires string as left operand, not " + v.type_name());
      return x.as_string().find(v.as_string()) != std::string::npos;
    }
    if (x.is_dict()) return v.is_string() && x.find(v.as_string());
    if (x.is_iterator() && !x.as_iterator().view) {  // Python stops, and leaves the generator, at the match
      Iterator& it = x.as_iterator();
      while (it.next < it.items.size()) {
        charge_steps(1);
        if (it.items[it.next++] == v) return true;
      }
      return false;
    }
    for (const Value& e : x.iterate())
      if (e == v) return true;
    return false;
  }
  if (name == "sameas") return v == x && v.type_name() == x.type_name();
  if (name == "lower" || name == "upper")
    return v.is_string() && v.as_string() == case_map(v.as_string(), name == "upper");
  fail_at(line, "unknown test '" + name + "'");
}

Value apply_filter(const std::string& name, const Value& v, const Args& a, int line) {
  if (name == "safe") return v.is_markup() ? v : Value::markup(soft_str(v));
  if (name == "trim") return Value(strip(soft_str(v), arg(a, "chars", 0), true, true));
  if (name == "length" || name == "count") return Value(length(v, line));
  if (name == "string") return v.is_string() ? v : Value(soft_str(v));
  if (name == "upper" || name == "lower") return Value(case_map(soft_str(v), name == "upper"));
  if (name == "capitalize") return Value(capitalize(soft_str(v)));
  if (name == "title") return Value(title(soft_str(v)));
  if (name == "tojson") {
    // transformers' tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
    JsonStyle st;
    const Value& indent = arg(a, "indent", 1);
    if (indent.is_int()) {  // json.dumps: ' ' * indent, so a negative indent is newlines only
      check_string_size(static_cast<uint64_t>(std::max<int64_t>(indent.as_int(), 0)));
      st.indent = static_cast<int>(std::max<int64_t>(indent.as_int(), 0));
    } else if (indent.is_string()) {
      st.indent_text = indent.as_string();
    }
    st.ensure_ascii = arg(a, "ensure_ascii", 0).truthy();
    st.sort_keys = arg(a, "sort_keys", 3).truthy();
    if (const Value* sep = a.get("separators", 2); sep && sep->is_list() && sep->as_list().size() == 2) {
      st.item_sep = want_string(sep->as_list()[0], line, "separators");
      st.key_sep = want_string(sep->as_list()[1], line, "separators");
    }
    require_defined(v, line);
    return Value(python_json_dumps(v, st));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::iterator({}, "generator");
    if (!v.is_dict()) fail_at(line, "Can only get item pairs from a mapping.");
    return Value::iterator(dict_items(v.as_dict()), "generator");
  }
  if (name == "replace") {
    const Value& c = arg(a, "count", 2);
    return Value(
        replace_all(soft_str(v), soft_str(arg(a, "old", 0)), soft_str(arg(a, "new", 1)), c.is_int() ? c.as_int() : -1));
  }
  if (name == "default" || name == "d") {
    bool boolean = arg(a, "boolean", 1).truthy();
    if (v.is_undefined() || (boolean && !v.truthy())) {
      const Value* d = a.get("default_value", 0);
      return d ? *d : Value("");
    }
    return v;
  }
  if (name == "join") {
    std::string sep = arg(a, "d", 0).is_string() ? arg(a, "d", 0).as_string() : "";
    const Value& attribute = arg(a, "attribute", 1);
    std::string out;
    List items = v.iterate();
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) append_bounded(out, sep);
      append_bounded(out, (attribute.is_undefined() ? items[i] : attribute_of(items[i], attribute, line)).str());
    }
    return Value(out);
  }
  if (name == "first" || name == "last") {
    // jinja2's last is next(reversed(seq)): an iterator that is not a view cannot be reversed.
    if (v.is_iterator() && !v.as_iterator().view) {
      if (name == "last") fail_at(line, "'" + v.type_name() + "' object is not reversible");
      Iterator& it = v.as_iterator();  // first is next(): it takes one item
      return it.next < it.items.size() ? it.items[it.next++] : Value::undefined(name);
    }
    List items = v.iterate();
    if (items.empty()) return Value::undefined(name);
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") return Value(v.iterate());
  if (name == "reverse") {
    if (v.is_string()) {
      List chars = v.iterate();
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += it->as_string();
      return Value(out);
    }
    // reversed() where Python has it, else a list.
    bool reversible = v.is_list() || v.is_dict() || (v.is_iterator() && v.as_iterator().view);
    List items = v.iterate();
    std::reverse(items.begin(), items.end());
    if (!reversible) return Value(items);
    return Value::iterator(std::move(items), v.is_list()   ? "list_reverseiterator"
                                             : v.is_dict() ? "dict_reversekeyiterator"
                                                           : "dict_reverseiterator");
  }
  if (name == "int") {
    if (v.is_int()) return v;
    // Python ints are unbounded; ours refuse what int64 cannot hold.
    if (v.is_float()) {
      double d = std::trunc(v.as_number());
      if (!(d >= -0x1p63 && d < 0x1p63)) fail_at(line, "'int' of " + v.repr() + " does not fit 64 bits");
      return Value(static_cast<int64_t>(d));
    }
    if (v.is_bool()) return Value(static_cast<int64_t>(v.as_bool()));
    try {
      if (v.is_string())
        return Value(static_cast<int64_t>(std::stoll(strip(v.as_string(), Value(None{}), true, true))));
    } catch (const std::exception&) {
    }
    const Value& d = arg(a, "default", 0);
    return d.is_undefined() ? Value(int64_t{0}) : d;
  }
  if (name == "float") {
    if (v.is_number() || v.is_bool()) return Value(v.as_number());
    try {
      if (v.is_string()) return Value(std::stod(v.as_string()));
    } catch (const std::exception&) {
    }
    const Value& d = arg(a, "default", 0);
    return d.is_undefined() ? Value(0.0) : d;
  }
  if (name == "abs") {
    if (v.is_int()) {
      if (v.as_int() == INT64_MIN) fail_at(line, "integer overflow in 'abs'");
      return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    }
    if (v.is_float()) return Value(std::fabs(v.as_number()));
    fail_at(line, "'abs' needs a number");
  }
  if (name == "round") {
    const Value& p = arg(a, "precision", 0);
    double scale = std::pow(10.0, p.is_int() ? static_cast<double>(p.as_int()) : 0.0);
    std::string method = arg(a, "method", 1).is_string() ? arg(a, "method", 1).as_string() : "common";
    double x = v.as_number() * scale;
    // Python's round(): halves go to the even neighbour.
    x = method == "floor" ? std::floor(x) : method == "ceil" ? std::ceil(x) : std::nearbyint(x);
    return Value(x / scale);
  }
  if (name == "unique") {
    // unique(value, case_sensitive=False, attribute=None), a generator.
    bool case_sensitive = arg(a, "case_sensitive", 0).truthy();
    const Value& attribute = arg(a, "attribute", 1);
    List out, seen;
    for (const Value& e : v.iterate()) {
      Value key = sort_key(attribute.is_undefined() ? e : attribute_of(e, attribute, line), case_sensitive);
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
      seen.push_back(std::move(key));
      out.push_back(e);
    }
    return Value::iterator(std::move(out), "generator");
  }
  if (name == "sort") {
    // sort(value, reverse=False, case_sensitive=False, attribute=None); stable, as sorted().
    bool reverse = arg(a, "reverse", 0).truthy(), case_sensitive = arg(a, "case_sensitive", 1).truthy();
    const Value& attribute = arg(a, "attribute", 2);
    List items = v.iterate();
    List keys;
    for (const Value& e : items)
      keys.push_back(sort_key(attribute.is_undefined() ? e : attribute_of(e, attribute, line), case_sensitive));
    return Value(sorted_by(std::move(items), keys, reverse));
  }
  if (name == "dictsort") {
    // dictsort(value, case_sensitive=False, by='key', reverse=False).
    bool case_sensitive = arg(a, "case_sensitive", 0).truthy(), reverse = arg(a, "reverse", 2).truthy();
    const Value& by = arg(a, "by", 1);
    size_t pos = 0;
    if (by.is_string() && by.as_string() == "value")
      pos = 1;
    else if (!by.is_undefined() && !(by.is_string() && by.as_string() == "key"))
      fail_at(line, "You can only sort by either \"key\" or \"value\"");
    require_defined(v, line);
    if (!v.is_dict()) fail_at(line, "'dictsort' needs a mapping, got " + v.type_name());
    List items = dict_items(v.as_dict());
    List keys;
    for (const Value& e : items) keys.push_back(sort_key(e.as_list()[pos], case_sensitive));
    return Value(sorted_by(std::move(items), keys, reverse));
  }
  if (name == "map") {
    // map(attribute=..., default=...) or map(filter, *args, **kwargs), a generator;
    // a false value (None, an empty list) maps to nothing.
    List out;
    if (v.truthy()) {
      const Value* attribute = a.positional.empty() ? a.get("attribute", 99) : nullptr;
      Args rest;
      if (!attribute) {
        if (a.positional.empty()) fail_at(line, "map requires a filter argument");
        rest.positional.assign(a.positional.begin() + 1, a.positional.end());
        rest.keyword = a.keyword;
      }
      for (const Value& e : v.iterate()) {
        if (attribute) {
          Value r = attribute_of(e, *attribute, line);
          const Value* d = a.get("default", 99);
          out.push_back(r.is_undefined() && d ? *d : r);
        } else {
          out.push_back(apply_filter(want_string(a.positional[0], line, "map"), e, rest, line));
        }
      }
    }
    return Value::iterator(std::move(out), "generator");
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    bool by_attr = name.ends_with("attr");
    bool keep = name.starts_with("select");
    size_t first = by_attr ? 1 : 0;
    List out;
    if (by_attr && a.positional.empty()) fail_at(line, "Missing parameter for attribute name");
    for (const Value& e : v.truthy() ? v.iterate() : List{}) {
      Value subject = by_attr ? attribute_of(e, arg(a, "", 0), line) : e;
      bool ok;
      if (a.positional.size() <= first) {
        ok = subject.truthy();
      } else {
        Args rest;
        rest.positional.assign(a.positional.begin() + static_cast<long>(first) + 1, a.positional.end());
        ok = apply_test(want_string(a.positional[first], line, name.c_str()), subject, rest, line);
      }
      if (ok == keep) out.push_back(e);
    }
    return Value::iterator(std::move(out), "generator");
  }
  if (name == "indent") {
    const Value& w = arg(a, "width", 0);
    int64_t width = w.is_int() ? std::max<int64_t>(w.as_int(), 0) : 4;
    check_string_size(static_cast<uint64_t>(width));
    std::string pad = w.is_string() ? w.as_string() : std::string(static_cast<size_t>(width), ' ');
    bool first = arg(a, "first", 1).truthy(), blank = arg(a, "blank", 2).truthy();
    std::string s = want_string(v, line, "indent"), out;
    size_t start = 0;
    for (size_t ln = 0; start <= s.size(); ++ln) {
      size_t nl = s.find('\n', start);
      std::string l = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if ((ln > 0 || first) && (blank || !l.empty())) append_bounded(out, pad);
      append_bounded(out, l);
      if (nl == std::string::npos) break;
      out += '\n';
      start = nl + 1;
    }
    return Value(out);
  }
  if (name == "sum") {
    Value total = arg(a, "start", 1).is_undefined() ? Value(int64_t{0}) : arg(a, "start", 1);
    const Value& attribute = arg(a, "attribute", 0);
    for (const Value& e : v.iterate()) {
      Value x = attribute.is_undefined() ? e : attribute_of(e, attribute, line);
      int64_t sum;
      if (total.is_int() && x.is_int()) {
        if (__builtin_add_overflow(total.as_int(), x.as_int(), &sum)) fail_at(line, "integer overflow in 'sum'");
        total = Value(sum);
      } else {
        total = Value(total.as_number() + x.as_number());
      }
    }
    return total;
  }
  if (name == "min" || name == "max") {
    List items = v.iterate();
    if (items.empty()) return Value::undefined(name);
    auto cmp = [](const Value& x, const Value& y) { return less(x, y); };
    return name == "min" ? *std::min_element(items.begin(), items.end(), cmp)
                         : *std::max_element(items.begin(), items.end(), cmp);
  }
  if (name == "wordcount") return Value(static_cast<int64_t>(split(soft_str(v), Value(None{}), -1).size()));
  if (name == "e" || name == "escape") return v.is_markup() ? v : Value::markup(html_escape(soft_str(v)));
  fail_at(line, "unknown filter '" + name + "'");
}

Value global_function(const std::string& name) {
  if (name == "range")
    return Value(Function([](const Args& a) {
      int64_t start = 0, stop, step = 1;
      auto num = [](const Value& v) {
        if (!v.is_int()) throw Error("chat template: range() needs integers");
        return v.as_int();
      };
      if (a.positional.size() == 1) {
        stop = num(a.positional[0]);
      } else if (a.positional.size() >= 2) {
        start = num(a.positional[0]);
        stop = num(a.positional[1]);
        if (a.positional.size() > 2) step = num(a.positional[2]);
      } else {
        throw Error("chat template: range() needs arguments");
      }
      if (step == 0) throw Error("chat template: range() step must not be zero");
      List out;
      for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
        check_list_size(out.size() + 1);
        out.emplace_back(i);
        if (__builtin_add_overflow(i, step, &i)) break;  // past int64: past any stop
      }
      return Value(out);
    }));
  if (name == "namespace" || name == "dict")
    return Value(Function([name](const Args& a) {
      Dict d;
      for (const Value& p : a.positional)
        if (p.is_dict()) d.insert(d.end(), p.as_dict().begin(), p.as_dict().end());
      for (const auto& kw : a.keyword) {
        auto it = std::find_if(d.begin(), d.end(), [&](const auto& kv) { return kv.first == kw.first; });
        if (it != d.end())
          it->second = kw.second;
        else
          d.push_back(kw);
      }
      if (name == "dict") return Value(d);
      auto ns = std::make_shared<Namespace>();
      ns->attrs = std::move(d);
      return Value(ns);
    }));
  if (name == "raise_exception")
    return Value(Function(
        [](const Args& a) -> Value { throw Error("chat template raised an error: " + arg(a, "message", 0).str()); }));
  if (name == "strftime_now")
    return Value(Function([](const Args& a) {
      std::time_t now = std::time(nullptr);
      std::tm tm{};
      localtime_r(&now, &tm);
      char buf[256];
      size_t n = std::strftime(buf, sizeof buf, arg(a, "format", 0).str().c_str(), &tm);
      return Value(std::string(buf, n));
    }));
  return Value::undefined(name);
}

}  // namespace mobilellm::jinja
