#include "chat/jinja/parser.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "chat/jinja/lexer.h"
#include "chat/jinja/limits.h"

namespace mobilellm::jinja {
namespace {

using K = Expr::Kind;

[[noreturn]] void fail(int line, const std::string& what) {
  throw Error("chat template line " + std::to_string(line) + ": " + what);
}

ExprPtr make(K kind, int line) { return std::make_unique<Expr>(kind, line); }

[[noreturn]] void too_deep(int line, const char* what) {
  fail(line, std::string(what) + " nest deeper than " + std::to_string(kMaxNesting) + " levels");
}

// A finished node: its depth from its children's, refused past kMaxNesting so
// that evaluating and destroying the tree cannot exhaust the stack.
ExprPtr seal(ExprPtr n) {
  int deepest = 0;
  auto see = [&](const ExprPtr& c) {
    if (c) deepest = std::max(deepest, c->depth);
  };
  see(n->a);
  see(n->b);
  see(n->c);
  for (const auto& e : n->items) see(e);
  for (const auto& e : n->args.positional) see(e);
  for (const auto& kv : n->args.keyword) see(kv.second);
  for (const auto& kv : n->comparisons) see(kv.second);
  n->depth = deepest + 1;
  if (n->depth > kMaxNesting) too_deep(n->line, "expressions");
  return n;
}

// Counts the parser's own recursion (open brackets, unary operators, nested
// conditionals), which happens before any node is sealed.
class Nest {
 public:
  Nest(int& depth, int line, const char* what) : depth_(depth) {
    if (++depth_ > kMaxNesting) too_deep(line, what);
  }
  ~Nest() { --depth_; }
  Nest(const Nest&) = delete;
  Nest& operator=(const Nest&) = delete;

 private:
  int& depth_;
};

int64_t parse_int(const Token& t) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
  if (ec != std::errc() || end != t.text.data() + t.text.size())
    fail(t.line, "integer literal " + t.text + " is too large");
  return v;
}

// Python's float(): literals past the double range become inf or 0.
double parse_float(const Token& t) {
  double v = 0;
  auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
  if (ec == std::errc::result_out_of_range) return std::strtod(t.text.c_str(), nullptr);
  if (ec != std::errc() || end != t.text.data() + t.text.size()) fail(t.line, "bad number " + t.text);
  return v;
}

// Expressions, with Jinja's precedence from loosest to tightest:
// conditional, or, and, not, comparison, ~, + -, * / // %, **, unary, postfix.
class ExprParser {
 public:
  explicit ExprParser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  const Token& peek(size_t k = 0) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  bool at_end() const { return peek().kind == Token::Kind::kEnd; }
  bool is_op(const char* op) const { return peek().kind == Token::Kind::kOp && peek().text == op; }
  bool is_name(const char* name) const { return peek().kind == Token::Kind::kName && peek().text == name; }
  bool accept_op(const char* op) {
    if (!is_op(op)) return false;
    ++i_;
    return true;
  }
  bool accept_name(const char* name) {
    if (!is_name(name)) return false;
    ++i_;
    return true;
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) fail(peek().line, std::string("expected '") + op + "', found '" + peek().text + "'");
  }
  std::string expect_name() {
    if (peek().kind != Token::Kind::kName) fail(peek().line, "expected a name, found '" + peek().text + "'");
    return t_[i_++].text;
  }
  void expect_end() {
    if (!at_end()) fail(peek().line, "unexpected '" + peek().text + "'");
  }

  // An expression; a bare comma list becomes a tuple (list) when allowed.
  ExprPtr tuple_or_expr(bool with_cond = true) {
    int line = peek().line;
    ExprPtr first = with_cond ? expression() : or_expr();
    if (!is_op(",")) return first;
    auto list = make(K::kList, line);
    list->name = "tuple";
    list->items.push_back(std::move(first));
    while (accept_op(",")) {
      if (at_end() || is_op(")") || is_op("%")) break;
      list->items.push_back(with_cond ? expression() : or_expr());
    }
    return seal(std::move(list));
  }

  // The filters of {% filter f | g(x) %}: a chain of kFilter nodes whose
  // innermost operand is null, standing for the block's rendered text.
  ExprPtr filter_chain() {
    ExprPtr e;
    do e = filter(std::move(e), peek().line);
    while (accept_op("|"));
    return e;
  }

  ExprPtr expression() {
    ExprPtr e = or_expr();
    while (is_name("if")) {
      int line = peek().line;
      ++i_;
      auto cond = make(K::kCond, line);
      cond->b = or_expr();
      if (accept_name("else")) {
        Nest nest(depth_, line, "expressions");
        cond->c = expression();
      }
      cond->a = std::move(e);
      e = seal(std::move(cond));
    }
    return e;
  }

 private:
  ExprPtr or_expr() {
    ExprPtr e = and_expr();
    while (is_name("or")) {
      auto n = make(K::kOr, peek().line);
      ++i_;
      n->a = std::move(e);
      n->b = and_expr();
      e = seal(std::move(n));
    }
    return e;
  }
  ExprPtr and_expr() {
    ExprPtr e = not_expr();
    while (is_name("and")) {
      auto n = make(K::kAnd, peek().line);
      ++i_;
      n->a = std::move(e);
      n->b = not_expr();
      e = seal(std::move(n));
    }
    return e;
  }
  ExprPtr not_expr() {
    if (is_name("not")) {
      Nest nest(depth_, peek().line, "expressions");
      auto n = make(K::kNot, peek().line);
      ++i_;
      n->a = not_expr();
      return seal(std::move(n));
    }
    return compare();
  }
  ExprPtr compare() {
    ExprPtr e = concat();
    ExprPtr cmp;
    for (;;) {
      std::string op;
      if (peek().kind == Token::Kind::kOp && (peek().text == "==" || peek().text == "!=" || peek().text == "<" ||
                                              peek().text == "<=" || peek().text == ">" || peek().text == ">=")) {
        op = t_[i_++].text;
      } else if (is_name("in")) {
        ++i_;
        op = "in";
      } else if (is_name("not") && peek(1).kind == Token::Kind::kName && peek(1).text == "in") {
        i_ += 2;
        op = "not in";
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(K::kCompare, peek().line);
        cmp->a = std::move(e);
      }
      cmp->comparisons.emplace_back(op, concat());
    }
    return cmp ? seal(std::move(cmp)) : std::move(e);
  }
  ExprPtr binary(ExprPtr left, std::string op, ExprPtr right) {
    auto n = make(K::kBinary, left->line);
    n->name = std::move(op);
    n->a = std::move(left);
    n->b = std::move(right);
    return seal(std::move(n));
  }
  ExprPtr concat() {
    ExprPtr e = sum();
    while (is_op("~")) {
      ++i_;
      e = binary(std::move(e), "~", sum());
    }
    return e;
  }
  ExprPtr sum() {
    ExprPtr e = product();
    while (is_op("+") || is_op("-")) {
      std::string op = t_[i_++].text;
      e = binary(std::move(e), op, product());
    }
    return e;
  }
  ExprPtr product() {
    ExprPtr e = power();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = t_[i_++].text;
      e = binary(std::move(e), op, power());
    }
    return e;
  }
  ExprPtr power() {
    ExprPtr e = unary();
    while (is_op("**")) {
      ++i_;
      e = binary(std::move(e), "**", unary());
    }
    return e;
  }
  ExprPtr unary() {
    Nest nest(depth_, peek().line, "expressions");
    if (is_op("-") || is_op("+")) {
      auto n = make(is_op("-") ? K::kNeg : K::kPos, peek().line);
      ++i_;
      n->a = unary();
      return filters(seal(std::move(n)));
    }
    return filters(postfix(primary()));
  }

  // One filter applied to `e`, after its "|".
  ExprPtr filter(ExprPtr e, int line) {
    auto n = make(K::kFilter, line);
    n->name = expect_name();
    while (accept_op(".")) n->name += "." + expect_name();
    if (accept_op("(")) call_args(n->args);
    n->a = std::move(e);
    return seal(std::move(n));
  }

  void call_args(CallArgs& args) {
    // After "(": positional and keyword arguments up to ")".
    while (!accept_op(")")) {
      if (peek().kind == Token::Kind::kName && peek(1).kind == Token::Kind::kOp && peek(1).text == "=") {
        std::string key = t_[i_].text;
        i_ += 2;
        args.keyword.emplace_back(key, expression());
      } else {
        args.positional.push_back(expression());
      }
      if (!accept_op(",")) {
        expect_op(")");
        break;
      }
    }
  }

  ExprPtr postfix(ExprPtr e) {
    for (;;) {
      int line = peek().line;
      if (accept_op(".")) {
        auto n = make(K::kAttr, line);
        n->a = std::move(e);
        if (peek().kind == Token::Kind::kInt) {
          n->kind = K::kIndex;
          auto idx = make(K::kLiteral, line);
          idx->literal = Value(parse_int(t_[i_++]));
          n->b = std::move(idx);
        } else {
          n->name = expect_name();
        }
        e = seal(std::move(n));
      } else if (accept_op("[")) {
        ExprPtr parts[3];
        int n_colons = 0;
        while (!is_op("]")) {
          if (accept_op(":")) {
            if (++n_colons > 2) fail(line, "too many ':' in a slice");
            continue;
          }
          if (parts[n_colons]) fail(line, "expected ':' or ']'");
          parts[n_colons] = expression();
        }
        expect_op("]");
        auto n = make(n_colons ? K::kSlice : K::kIndex, line);
        n->a = std::move(e);
        if (n_colons) {
          for (auto& p : parts) n->items.push_back(std::move(p));
        } else {
          if (!parts[0]) fail(line, "empty subscript");
          n->b = std::move(parts[0]);
        }
        e = seal(std::move(n));
      } else if (accept_op("(")) {
        auto n = make(K::kCall, line);
        n->a = std::move(e);
        call_args(n->args);
        e = seal(std::move(n));
      } else {
        return e;
      }
    }
  }

  ExprPtr filters(ExprPtr e) {
    for (;;) {
      int line = peek().line;
      if (accept_op("|")) {
        e = filter(std::move(e), line);
      } else if (is_name("is")) {
        ++i_;
        auto n = make(K::kTest, line);
        n->negated = accept_name("not");
        if (peek().kind == Token::Kind::kName) {
          n->name = t_[i_++].text;
        } else if (peek().kind == Token::Kind::kOp &&
                   (peek().text == "==" || peek().text == "!=" || peek().text == "<" || peek().text == ">" ||
                    peek().text == "<=" || peek().text == ">=")) {
          n->name = t_[i_++].text;
        } else {
          fail(line, "expected a test name after 'is'");
        }
        if (accept_op("(")) {
          call_args(n->args);
        } else if (!at_end() && (peek().kind == Token::Kind::kString || peek().kind == Token::Kind::kInt ||
                                 peek().kind == Token::Kind::kFloat ||
                                 (peek().kind == Token::Kind::kName && !is_name("and") && !is_name("or") &&
                                  !is_name("else") && !is_name("if") && !is_name("in") && !is_name("not")))) {
          n->args.positional.push_back(postfix(primary()));  // "x is divisibleby 3"
        }
        n->a = std::move(e);
        e = seal(std::move(n));
      } else {
        return e;
      }
    }
  }

  ExprPtr primary() {
    const Token& t = peek();
    int line = t.line;
    auto literal = [&](Value v) {
      auto n = make(K::kLiteral, line);
      n->literal = std::move(v);
      return n;
    };
    switch (t.kind) {
      case Token::Kind::kInt: ++i_; return literal(Value(parse_int(t)));
      case Token::Kind::kFloat: ++i_; return literal(Value(parse_float(t)));
      case Token::Kind::kString: {
        std::string s;
        while (peek().kind == Token::Kind::kString) s += t_[i_++].text;  // adjacent literals join
        return literal(Value(s));
      }
      case Token::Kind::kName: {
        ++i_;
        if (t.text == "true" || t.text == "True") return literal(Value(true));
        if (t.text == "false" || t.text == "False") return literal(Value(false));
        if (t.text == "none" || t.text == "None") return literal(Value(None{}));
        auto n = make(K::kName, line);
        n->name = t.text;
        return n;
      }
      case Token::Kind::kOp:
        if (accept_op("(")) {
          if (accept_op(")")) {
            auto empty = make(K::kList, line);
            empty->name = "tuple";
            return empty;
          }
          ExprPtr e = tuple_or_expr();
          expect_op(")");
          return e;
        }
        if (accept_op("[")) {
          auto n = make(K::kList, line);
          while (!accept_op("]")) {
            n->items.push_back(expression());
            if (!accept_op(",")) {
              expect_op("]");
              break;
            }
          }
          return seal(std::move(n));
        }
        if (accept_op("{")) {
          auto n = make(K::kDict, line);
          while (!accept_op("}")) {
            n->items.push_back(expression());
            expect_op(":");
            n->items.push_back(expression());
            if (!accept_op(",")) {
              expect_op("}");
              break;
            }
          }
          return seal(std::move(n));
        }
        break;
      case Token::Kind::kEnd: fail(line, "unexpected end of expression");
    }
    fail(line, "unexpected '" + t.text + "'");
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;
};

class TemplateParser {
 public:
  explicit TemplateParser(std::vector<Segment> segs) : segs_(std::move(segs)) {}

  Body parse() {
    Body body = parse_body({});
    if (pos_ < segs_.size()) fail(segs_[pos_].line, "unexpected '" + keyword_ + "'");
    return body;
  }

 private:
  // Statements up to one of `ends` (left as the current statement, with its
  // keyword in keyword_ and the rest of its tokens in rest_).
  Body parse_body(const std::vector<std::string>& ends) {
    Body body;
    while (pos_ < segs_.size()) {
      const Segment& s = segs_[pos_];
      if (s.kind == Segment::Kind::kText) {
        auto st = std::make_unique<Stmt>(Stmt::Kind::kText, s.line);
        st->text = s.text;
        body.push_back(std::move(st));
        ++pos_;
        continue;
      }
      ExprParser p(tokenize_tag(s.text, s.line));
      if (s.kind == Segment::Kind::kExpression) {
        auto st = std::make_unique<Stmt>(Stmt::Kind::kOutput, s.line);
        st->expr = p.tuple_or_expr();
        p.expect_end();
        body.push_back(std::move(st));
        ++pos_;
        continue;
      }
      std::string kw = p.expect_name();
      if (std::find(ends.begin(), ends.end(), kw) != ends.end()) {
        keyword_ = kw;
        rest_ = std::make_unique<ExprParser>(std::move(p));
        return body;
      }
      ++pos_;
      body.push_back(statement(kw, p, s.line));
    }
    if (!ends.empty()) fail(segs_.empty() ? 1 : segs_.back().line, "missing {% " + ends.back() + " %}");
    return body;
  }

  std::unique_ptr<Stmt> statement(const std::string& kw, ExprParser& p, int line) {
    using SK = Stmt::Kind;
    Nest nest(depth_, line, "blocks");
    if (kw == "if") {
      auto st = std::make_unique<Stmt>(SK::kIf, line);
      ExprPtr cond = p.expression();
      p.expect_end();
      for (;;) {
        Body b = parse_body({"elif", "else", "endif"});
        st->branches.emplace_back(std::move(cond), std::move(b));
        std::string k = keyword_;
        ++pos_;
        if (k == "endif") break;
        if (k == "else") {
          rest_->expect_end();
          Body e = parse_body({"endif"});
          st->branches.emplace_back(nullptr, std::move(e));
          ++pos_;
          break;
        }
        cond = rest_->expression();
        rest_->expect_end();
      }
      return st;
    }
    if (kw == "for") {
      auto st = std::make_unique<Stmt>(SK::kFor, line);
      do st->targets.push_back(p.expect_name());
      while (p.accept_op(","));
      if (!p.accept_name("in")) fail(line, "expected 'in' in for");
      st->expr = p.tuple_or_expr(false);
      if (p.accept_name("if")) st->filter = p.expression();
      if (p.accept_name("recursive")) fail(line, "recursive loops are not supported");
      p.expect_end();
      st->body = parse_body({"else", "endfor"});
      if (keyword_ == "else") {
        ++pos_;
        st->else_body = parse_body({"endfor"});
      }
      ++pos_;
      return st;
    }
    if (kw == "set") {
      std::string first = p.expect_name();
      if (p.accept_op(".")) {
        auto st = std::make_unique<Stmt>(SK::kSet, line);
        st->targets.push_back(first);
        st->attr = p.expect_name();
        p.expect_op("=");
        st->expr = p.tuple_or_expr();
        p.expect_end();
        return st;
      }
      std::vector<std::string> names{first};
      while (p.accept_op(",")) names.push_back(p.expect_name());
      if (p.at_end() || p.is_op("|")) {
        auto st = std::make_unique<Stmt>(SK::kSetBlock, line);
        st->targets = names;
        if (p.accept_op("|")) st->expr = p.filter_chain();  // {% set x | trim %}
        p.expect_end();
        st->body = parse_body({"endset"});
        ++pos_;
        return st;
      }
      auto st = std::make_unique<Stmt>(SK::kSet, line);
      st->targets = names;
      p.expect_op("=");
      st->expr = p.tuple_or_expr();
      p.expect_end();
      return st;
    }
    if (kw == "macro") {
      auto st = std::make_unique<Stmt>(SK::kMacro, line);
      st->name = p.expect_name();
      p.expect_op("(");
      while (!p.accept_op(")")) {
        std::string name = p.expect_name();
        ExprPtr def;
        if (p.accept_op("=")) def = p.expression();
        st->params.emplace_back(name, std::move(def));
        if (!p.accept_op(",")) {
          p.expect_op(")");
          break;
        }
      }
      p.expect_end();
      st->body = parse_body({"endmacro"});
      ++pos_;
      return st;
    }
    if (kw == "break" || kw == "continue") {
      p.expect_end();
      return std::make_unique<Stmt>(kw == "break" ? SK::kBreak : SK::kContinue, line);
    }
    if (kw == "filter") {
      auto st = std::make_unique<Stmt>(SK::kFilter, line);
      st->expr = p.filter_chain();
      p.expect_end();
      st->body = parse_body({"endfilter"});
      ++pos_;
      return st;
    }
    if (kw == "generation") {  // transformers' assistant-mask marker: renders its body
      p.expect_end();
      auto st = std::make_unique<Stmt>(SK::kBlock, line);
      st->body = parse_body({"endgeneration"});
      ++pos_;
      return st;
    }
    fail(line, "unsupported statement '" + kw + "'");
  }

  std::vector<Segment> segs_;
  size_t pos_ = 0;
  std::string keyword_;
  std::unique_ptr<ExprParser> rest_;
  int depth_ = 0;
};

}  // namespace

Body parse_template(std::string_view source) { return TemplateParser(split_template(source)).parse(); }

}  // namespace mobilellm::jinja
