#pragma once
// Values inside the Jinja interpreter, with Python's semantics where chat
// templates can observe them (truthiness, str(), repr(), equality, ordering).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "chat/json.h"

namespace mobilellm::jinja {

class Value;
using List = std::vector<Value>;
// Insertion-ordered, like Python dicts (tojson and items() keep the order).
using Dict = std::vector<std::pair<std::string, Value>>;

struct Args {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  // Keyword `name`, else positional `index`, else nullptr.
  const Value* get(const std::string& name, size_t index) const;
};
using Function = std::function<Value(const Args&)>;

struct Undefined {
  std::string name;  // what was looked up, for error messages
};
struct None {};

// A namespace() object: a dict that `set ns.x = ...` may change from any scope.
struct Namespace {
  Dict attrs;
};

// What jinja2 hands back where Python does not build a list: a generator
// (map, select, reject, unique, the items filter), a reversed() iterator or a
// dict view (keys(), values(), items()). A template can loop over one, but
// tojson refuses it and it prints as Python prints it; a generator or
// iterator has no len(), is always true and is used up as it is visited.
struct Iterator {
  List items;
  std::string type;   // Python's name: "generator", "list_reverseiterator", "dict_items" ...
  bool view = false;  // a dict view: sized, reusable, printed with its items
  size_t next = 0;    // items before it were visited (always 0 for a view)
};

class Value {
 public:
  using Data =
      std::variant<Undefined, None, bool, int64_t, double, std::string, std::shared_ptr<List>, std::shared_ptr<Dict>,
                   std::shared_ptr<Function>, std::shared_ptr<Namespace>, std::shared_ptr<Iterator>>;

  Value() : data_(Undefined{}) {}
  Value(None) : data_(None{}) {}
  Value(bool b) : data_(b) {}
  Value(int64_t i) : data_(i) {}
  Value(int i) : data_(static_cast<int64_t>(i)) {}
  Value(double d) : data_(d) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  // Throw past kMaxListItems items or kMaxValueDepth levels.
  Value(List l);
  Value(Dict d);
  Value(Function f) : data_(std::make_shared<Function>(std::move(f))) {}
  Value(std::shared_ptr<Namespace> ns) : data_(std::move(ns)) {}
  static Value undefined(std::string name) {
    Value v;
    v.data_ = Undefined{std::move(name)};
    return v;
  }
  // A list that prints as a Python tuple: items(), dictsort, (a, b).
  static Value tuple(List l) {
    Value v(std::move(l));
    v.tuple_ = true;
    return v;
  }
  // markupsafe's Markup, what the safe and escape filters return: a string
  // that HTML-escapes a plain string added to it (autoescape is off in
  // transformers, so nothing else escapes).
  static Value markup(std::string s) {
    Value v(std::move(s));
    v.markup_ = true;
    return v;
  }
  // An Iterator over `items` (bounded as a list is).
  static Value iterator(List items, std::string type, bool view = false);
  static Value from_json(const Json& j, int depth = 0);
  Json to_json() const;  // throws for undefined values and functions

  bool is_undefined() const { return std::holds_alternative<Undefined>(data_); }
  bool is_none() const { return std::holds_alternative<None>(data_); }
  bool is_bool() const { return std::holds_alternative<bool>(data_); }
  bool is_int() const { return std::holds_alternative<int64_t>(data_); }  // bool is not int here
  bool is_float() const { return std::holds_alternative<double>(data_); }
  bool is_number() const { return is_int() || is_float(); }
  bool is_string() const { return std::holds_alternative<std::string>(data_); }
  bool is_markup() const { return markup_; }
  bool is_list() const { return std::holds_alternative<std::shared_ptr<List>>(data_); }
  bool is_dict() const { return std::holds_alternative<std::shared_ptr<Dict>>(data_); }
  bool is_function() const { return std::holds_alternative<std::shared_ptr<Function>>(data_); }
  bool is_namespace() const { return std::holds_alternative<std::shared_ptr<Namespace>>(data_); }
  bool is_iterator() const { return std::holds_alternative<std::shared_ptr<Iterator>>(data_); }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  double as_number() const {
    return is_int() ? static_cast<double>(as_int()) : is_bool() ? as_bool() : std::get<double>(data_);
  }
  const std::string& as_string() const { return std::get<std::string>(data_); }
  const List& as_list() const { return *std::get<std::shared_ptr<List>>(data_); }
  const Dict& as_dict() const { return *std::get<std::shared_ptr<Dict>>(data_); }
  const Function& as_function() const { return *std::get<std::shared_ptr<Function>>(data_); }
  Namespace& as_namespace() const { return *std::get<std::shared_ptr<Namespace>>(data_); }
  Iterator& as_iterator() const { return *std::get<std::shared_ptr<Iterator>>(data_); }
  const std::string& undefined_name() const { return std::get<Undefined>(data_).name; }

  // Whether this is a namespace or a list or dict with one inside (one
  // namespace inside another could form a cycle that is never freed).
  bool holds_namespace() const { return is_namespace() || holds_namespace_; }

  // Dict or namespace member, else nullptr.
  const Value* find(const std::string& key) const;

  bool truthy() const;
  std::string str() const;   // Python str(): what {{ x }} prints
  std::string repr() const;  // Python repr()
  std::string type_name() const;
  // Items a `for` loop visits: list elements, dict keys, string characters,
  // what an iterator has left (a generator's only once).
  List iterate() const;

 private:
  Data data_;
  bool tuple_ = false;
  bool markup_ = false;
  uint8_t depth_ = 0;             // lists and dicts nested in this value, this one included
  bool holds_namespace_ = false;  // a namespace inside this list or dict
};

bool operator==(const Value& a, const Value& b);
// Python ordering for numbers, strings and lists; throws otherwise.
bool less(const Value& a, const Value& b);

// Python's json.dumps(x, ensure_ascii, indent, separators, sort_keys), which
// transformers installs as the tojson filter.
struct JsonStyle {
  int indent = -1;                         // -1: one line; else a newline and this many spaces per level
  std::optional<std::string> indent_text;  // indent="\t": this string per level instead of spaces
  std::string item_sep, key_sep;           // empty: Python's defaults for the indent
  bool ensure_ascii = false;
  bool sort_keys = false;
};
std::string python_json_dumps(const Value& v, const JsonStyle& style);
// markupsafe.escape(): & < > " ' as HTML entities.
std::string html_escape(std::string_view s);
// Python's repr() of a float: shortest round-trip digits, "1.0", "1e-05", "inf".
std::string python_float_repr(double d);

}  // namespace mobilellm::jinja
