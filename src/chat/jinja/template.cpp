#include "chat/jinja/template.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "runtime/error.h"
#include "chat/jinja/ast.h"
#include "chat/jinja/builtins.h"
#include "chat/jinja/limits.h"
#include "chat/jinja/parser.h"

namespace mobilellm::jinja {
namespace {

using K = Expr::Kind;
using SK = Stmt::Kind;

enum class Flow { kNormal, kBreak, kContinue };

// One level of the interpreter's recursion.
class Frame {
 public:
  Frame(int& depth, int line) : depth_(depth) {
    if (++depth_ > kMaxRenderDepth)
      fail_at(line,
              "rendering nests deeper than " + std::to_string(kMaxRenderDepth) + " levels (macro calls included)");
  }
  ~Frame() { --depth_; }
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

 private:
  int& depth_;
};

class Interpreter {
 public:
  explicit Interpreter(const Json& context) {
    scopes_.emplace_back();
    if (!context.is_object()) throw Error("chat template: the context must be a JSON object");
    for (auto it = context.begin(); it != context.end(); ++it) scopes_[0][it.key()] = Value::from_json(it.value());
  }

  Flow render(const Body& body, std::string& out) {
    for (const auto& st : body) {
      Flow f = render(*st, out);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

 private:
  Value lookup(const std::string& name) const {
    for (size_t i = scopes_.size(); i-- > base_;) {
      auto it = scopes_[i].find(name);
      if (it != scopes_[i].end()) return it->second;
    }
    auto it = scopes_[0].find(name);
    if (it != scopes_[0].end()) return it->second;
    Value g = global_function(name);
    return g.is_undefined() ? Value::undefined(name) : g;
  }
  void assign(const std::string& name, Value v) { scopes_.back()[name] = std::move(v); }

  void assign_targets(const std::vector<std::string>& names, const Value& v, int line) {
    if (names.size() == 1) {
      assign(names[0], v);
      return;
    }
    if (!v.is_list() || v.as_list().size() != names.size())
      fail_at(line, "cannot unpack " + v.type_name() + " into " + std::to_string(names.size()) + " names");
    for (size_t i = 0; i < names.size(); ++i) assign(names[i], v.as_list()[i]);
  }

  Flow render(const Stmt& st, std::string& out) {
    Frame frame(frames_, st.line);
    charge_steps(1);
    switch (st.kind) {
      case SK::kText: append_bounded(out, st.text); return Flow::kNormal;
      case SK::kOutput: append_bounded(out, eval(*st.expr).str()); return Flow::kNormal;
      case SK::kIf:
        for (const auto& [cond, body] : st.branches)
          if (!cond || eval(*cond).truthy()) return render(body, out);
        return Flow::kNormal;
      case SK::kFor: return render_for(st, out);
      case SK::kSet: {
        Value v = eval(*st.expr);
        if (st.attr.empty()) {
          assign_targets(st.targets, v, st.line);
        } else {
          Value ns = lookup(st.targets[0]);
          if (!ns.is_namespace())
            fail_at(st.line, "'" + st.targets[0] + "' is not a namespace; cannot set ." + st.attr);
          if (v.holds_namespace()) fail_at(st.line, "a namespace attribute cannot hold a namespace");
          Dict& attrs = ns.as_namespace().attrs;
          auto it = std::find_if(attrs.begin(), attrs.end(), [&](const auto& kv) { return kv.first == st.attr; });
          if (it != attrs.end())
            it->second = v;
          else
            attrs.emplace_back(st.attr, v);
        }
        return Flow::kNormal;
      }
      case SK::kSetBlock: {
        std::string captured;
        render(st.body, captured);
        Value v(std::move(captured));
        assign_targets(st.targets, st.expr ? filter_chain(*st.expr, std::move(v)) : v, st.line);
        return Flow::kNormal;
      }
      case SK::kMacro: assign(st.name, make_macro(st)); return Flow::kNormal;
      case SK::kBreak: return Flow::kBreak;
      case SK::kContinue: return Flow::kContinue;
      case SK::kBlock: return render(st.body, out);
      case SK::kFilter: {
        std::string captured;
        Flow f = render(st.body, captured);
        append_bounded(out, filter_chain(*st.expr, Value(std::move(captured))).str());
        return f;
      }
    }
    return Flow::kNormal;
  }

  Flow render_for(const Stmt& st, std::string& out) {
    List items;
    for (Value& item : eval(*st.expr).iterate()) {
      if (st.filter) {
        scopes_.emplace_back();
        assign_targets(st.targets, item, st.line);
        bool keep = eval(*st.filter).truthy();
        scopes_.pop_back();
        if (!keep) continue;
      }
      items.push_back(std::move(item));
    }
    if (items.empty()) return render(st.else_body, out);
    auto n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      charge_steps(1);
      Dict loop = {{"index", Value(i + 1)},
                   {"index0", Value(i)},
                   {"revindex", Value(n - i)},
                   {"revindex0", Value(n - i - 1)},
                   {"first", Value(i == 0)},
                   {"last", Value(i == n - 1)},
                   {"length", Value(n)},
                   {"previtem", i > 0 ? items[i - 1] : Value::undefined("loop.previtem")},
                   {"nextitem", i + 1 < n ? items[i + 1] : Value::undefined("loop.nextitem")},
                   {"depth", Value(1)},
                   {"depth0", Value(0)},
                   {"cycle", Value(Function([i](const Args& a) {
                      if (a.positional.empty()) throw Error("chat template: loop.cycle() needs arguments");
                      return a.positional[static_cast<size_t>(i) % a.positional.size()];
                    }))}};
      scopes_.emplace_back();
      assign("loop", Value(std::move(loop)));
      assign_targets(st.targets, items[i], st.line);
      Flow f = render(st.body, out);
      scopes_.pop_back();
      if (f == Flow::kBreak) break;
    }
    return Flow::kNormal;
  }

  // The filters of a {% filter %} block applied to its text, innermost first.
  Value filter_chain(const Expr& e, Value text) {
    Frame frame(frames_, e.line);
    Value v = e.a ? filter_chain(*e.a, std::move(text)) : std::move(text);
    return apply_filter(e.name, v, eval_args(e.args), e.line);
  }

  Value make_macro(const Stmt& st) {
    const Stmt* m = &st;
    return Value(Function([this, m](const Args& a) {
      if (++calls_ > kMaxCallDepth)
        fail_at(m->line, "macro calls nest deeper than " + std::to_string(kMaxCallDepth) + " levels");
      size_t saved = base_;
      base_ = scopes_.size();
      scopes_.emplace_back();
      for (size_t i = 0; i < m->params.size(); ++i) {
        const auto& [name, def] = m->params[i];
        const Value* v = a.get(name, i);
        assign(name, v ? *v : def ? eval(*def) : Value::undefined(name));
      }
      if (a.positional.size() > m->params.size())
        fail_at(m->line, "macro '" + m->name + "' takes " + std::to_string(m->params.size()) + " arguments");
      std::string out;
      render(m->body, out);
      scopes_.pop_back();
      base_ = saved;
      --calls_;
      return Value(out);
    }));
  }

  Args eval_args(const CallArgs& c) {
    Args a;
    for (const auto& e : c.positional) a.positional.push_back(eval(*e));
    for (const auto& [k, e] : c.keyword) a.keyword.emplace_back(k, eval(*e));
    return a;
  }

  Value arithmetic(const std::string& op, const Value& x, const Value& y, int line) {
    for (const Value* v : {&x, &y})
      if (v->is_undefined()) fail_at(line, "'" + v->undefined_name() + "' is undefined");
    if (op == "~") {
      std::string s = x.str();
      append_bounded(s, y.str());
      return Value(std::move(s));
    }
    if (op == "+") {
      if (x.is_string() && y.is_string()) {
        // Markup + str escapes the str, whichever side it is on.
        bool markup = x.is_markup() || y.is_markup();
        std::string s = markup && !x.is_markup() ? html_escape(x.as_string()) : x.as_string();
        append_bounded(s, markup && !y.is_markup() ? html_escape(y.as_string()) : y.as_string());
        return markup ? Value::markup(std::move(s)) : Value(std::move(s));
      }
      if (x.is_list() && y.is_list()) {
        check_list_size(x.as_list().size() + y.as_list().size());
        List l = x.as_list();
        l.insert(l.end(), y.as_list().begin(), y.as_list().end());
        return Value(l);
      }
    }
    if (op == "*" && (x.is_string() || x.is_list()) && y.is_int()) {
      Value seq = x, count = y;
      size_t unit = x.is_string() ? x.as_string().size() : x.as_list().size();
      if (unit == 0 || count.as_int() <= 0) return x.is_string() ? Value("") : Value(List{});
      uint64_t total = static_cast<uint64_t>(count.as_int()) > SIZE_MAX / unit
                           ? SIZE_MAX
                           : unit * static_cast<uint64_t>(count.as_int());
      if (x.is_string())
        check_string_size(total);
      else
        check_list_size(total);
      if (x.is_string()) {
        std::string s;
        for (int64_t i = 0; i < count.as_int(); ++i) s += seq.as_string();
        return x.is_markup() ? Value::markup(std::move(s)) : Value(std::move(s));
      }
      List l;
      for (int64_t i = 0; i < count.as_int(); ++i) l.insert(l.end(), seq.as_list().begin(), seq.as_list().end());
      return Value(l);
    }
    bool numeric = (x.is_number() || x.is_bool()) && (y.is_number() || y.is_bool());
    if (!numeric)
      fail_at(line, "unsupported operand types for " + op + ": '" + x.type_name() + "' and '" + y.type_name() + "'");
    bool ints = !x.is_float() && !y.is_float();
    auto xi = x.is_bool() ? int64_t{x.as_bool()} : ints ? x.as_int() : 0;
    auto yi = y.is_bool() ? int64_t{y.as_bool()} : ints ? y.as_int() : 0;
    double xd = x.as_number(), yd = y.as_number();
    // Python integers do not overflow; ours report it instead of wrapping.
    auto checked = [&](bool (*f)(int64_t, int64_t, int64_t*)) {
      int64_t r;
      if (f(xi, yi, &r)) fail_at(line, "integer overflow in " + op);
      return Value(r);
    };
    if (op == "+")
      return ints ? checked([](int64_t a, int64_t b, int64_t* r) { return __builtin_add_overflow(a, b, r); })
                  : Value(xd + yd);
    if (op == "-")
      return ints ? checked([](int64_t a, int64_t b, int64_t* r) { return __builtin_sub_overflow(a, b, r); })
                  : Value(xd - yd);
    if (op == "*")
      return ints ? checked([](int64_t a, int64_t b, int64_t* r) { return __builtin_mul_overflow(a, b, r); })
                  : Value(xd * yd);
    if ((op == "/" || op == "//" || op == "%") && yd == 0) fail_at(line, "division by zero");
    if (op == "/") return Value(xd / yd);
    if (ints && yi == -1 && xi == INT64_MIN) fail_at(line, "integer overflow in " + op);
    if (op == "//") {
      if (ints) return Value(xi / yi - ((xi % yi != 0) && ((xi < 0) != (yi < 0))));
      return Value(std::floor(xd / yd));
    }
    if (op == "%") {
      if (ints) {
        int64_t m = xi % yi;
        return Value(m != 0 && ((m < 0) != (yi < 0)) ? m + yi : m);
      }
      double m = std::fmod(xd, yd);
      return Value(m != 0 && ((m < 0) != (yd < 0)) ? m + yd : m);
    }
    if (op == "**") {
      if (ints && yi >= 0) {
        if (xi == 0 || xi == 1) return Value(yi == 0 ? int64_t{1} : xi);
        if (xi == -1) return Value(yi % 2 == 0 ? int64_t{1} : int64_t{-1});
        int64_t p = 1;  // |xi| >= 2 overflows within 63 steps
        for (int64_t i = 0; i < yi; ++i)
          if (__builtin_mul_overflow(p, xi, &p)) fail_at(line, "integer overflow in **");
        return Value(p);
      }
      return Value(std::pow(xd, yd));
    }
    fail_at(line, "unknown operator " + op);
  }

  bool compare(const std::string& op, const Value& x, const Value& y, int line) {
    if (op == "==") return x == y;
    if (op == "!=") return !(x == y);
    if (op == "in" || op == "not in") {
      Args a;
      a.positional.push_back(y);
      bool in = apply_test("in", x, a, line);
      return op == "in" ? in : !in;
    }
    if (op == "<") return less(x, y);
    if (op == ">") return less(y, x);
    if (op == "<=") return !less(y, x);
    return !less(x, y);  // >=
  }

  Value slice(const Value& obj, const Expr& e) {
    auto bound = [&](size_t k) -> std::optional<int64_t> {
      if (!e.items[k]) return std::nullopt;
      Value v = eval(*e.items[k]);
      if (v.is_none()) return std::nullopt;
      if (!v.is_int()) fail_at(e.line, "slice indices must be integers");
      return v.as_int();
    };
    List items = obj.iterate();
    auto n = static_cast<int64_t>(items.size());
    int64_t step = bound(2).value_or(1);
    if (step == 0) fail_at(e.line, "slice step cannot be zero");
    auto clamp = [&](std::optional<int64_t> v, int64_t def) {
      if (!v) return def;
      int64_t i = *v < 0 ? *v + n : *v;
      return step > 0 ? std::clamp<int64_t>(i, 0, n) : std::clamp<int64_t>(i, -1, n - 1);
    };
    int64_t start = clamp(bound(0), step > 0 ? 0 : n - 1), stop = clamp(bound(1), step > 0 ? n : -1);
    List out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
      out.push_back(items[i]);
      if (__builtin_add_overflow(i, step, &i)) break;
    }
    if (!obj.is_string()) return Value(out);
    std::string s;
    for (const Value& c : out) s += c.as_string();
    return Value(s);
  }

  // Every string an expression yields is a copy: its bytes count against
  // kMaxBuiltBytes, which bounds the time of a render.
  Value eval(const Expr& e) {
    Frame frame(frames_, e.line);
    Value v = eval_node(e);
    if (v.is_string()) charge_built(v.as_string().size());
    return v;
  }

  Value eval_node(const Expr& e) {
    switch (e.kind) {
      case K::kLiteral: return e.literal;
      case K::kName: return lookup(e.name);
      case K::kList: {
        List l;
        for (const auto& i : e.items) l.push_back(eval(*i));
        return e.name == "tuple" ? Value::tuple(std::move(l)) : Value(std::move(l));
      }
      case K::kDict: {
        Dict d;
        for (size_t i = 0; i < e.items.size(); i += 2) {
          Value k = eval(*e.items[i]);
          if (!k.is_string()) fail_at(e.line, "only string keys are supported in dict literals");
          d.emplace_back(k.as_string(), eval(*e.items[i + 1]));
        }
        return Value(d);
      }
      case K::kAttr: return get_attr(eval(*e.a), e.name, e.line);
      case K::kIndex: return get_item(eval(*e.a), eval(*e.b), e.line);
      case K::kSlice: {
        Value obj = eval(*e.a);
        if (obj.is_undefined()) fail_at(e.line, "'" + obj.undefined_name() + "' is undefined");
        return slice(obj, e);
      }
      case K::kCall: {
        Value f = eval(*e.a);
        if (!f.is_function())
          fail_at(e.line, f.is_undefined() ? "'" + f.undefined_name() + "' is undefined"
                                           : "'" + f.type_name() + "' object is not callable");
        return f.as_function()(eval_args(e.args));
      }
      case K::kFilter: return apply_filter(e.name, eval(*e.a), eval_args(e.args), e.line);
      case K::kTest: {
        bool r = apply_test(e.name, eval(*e.a), eval_args(e.args), e.line);
        return Value(e.negated ? !r : r);
      }
      case K::kNot: return Value(!eval(*e.a).truthy());
      case K::kNeg: return arithmetic("-", Value(0), eval(*e.a), e.line);
      case K::kPos: return arithmetic("+", Value(0), eval(*e.a), e.line);
      case K::kBinary: return arithmetic(e.name, eval(*e.a), eval(*e.b), e.line);
      case K::kCompare: {
        Value left = eval(*e.a);
        for (const auto& [op, rhs] : e.comparisons) {
          Value right = eval(*rhs);
          if (!compare(op, left, right, e.line)) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case K::kAnd: {
        Value x = eval(*e.a);
        return x.truthy() ? eval(*e.b) : x;
      }
      case K::kOr: {
        Value x = eval(*e.a);
        return x.truthy() ? x : eval(*e.b);
      }
      case K::kCond:
        if (eval(*e.b).truthy()) return eval(*e.a);
        return e.c ? eval(*e.c) : Value::undefined("else");
    }
    fail_at(e.line, "unknown expression");
  }

  std::vector<std::unordered_map<std::string, Value>> scopes_;
  size_t base_ = 1;  // lookups see scopes_[base_..] and then the template's top scope
  int calls_ = 0;    // macro calls in progress
  int frames_ = 0;   // Frames alive
};

}  // namespace

namespace {

// Runs `f`, with `origin` in front of the message of any Error it throws.
template <typename F>
auto naming(const std::string& origin, F&& f) {
  if (origin.empty()) return f();
  try {
    return f();
  } catch (const Error& e) {
    throw Error(origin + ": " + e.what());
  }
}

}  // namespace

Template::Template(std::string_view source, std::string origin)
    : body_(naming(origin, [&] { return std::make_shared<const Body>(parse_template(source)); })),
      origin_(std::move(origin)) {}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

std::string Template::render(const Json& context) const {
  return naming(origin_, [&] {
    RenderBudget budget;
    Interpreter in(context);
    std::string out;
    in.render(*body_, out);
    return out;
  });
}

}  // namespace mobilellm::jinja
