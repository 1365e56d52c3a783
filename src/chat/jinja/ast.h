#pragma once
// The parsed form of a template: expressions evaluate to Values, statements
// render into a string.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/value.h"

namespace mobilellm::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using Body = std::vector<std::unique_ptr<Stmt>>;

struct CallArgs {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct Expr {
  enum class Kind {
    kLiteral,
    kName,
    kList,
    kDict,
    kAttr,
    kIndex,
    kSlice,
    kCall,
    kFilter,
    kTest,
    kNot,
    kNeg,
    kPos,
    kBinary,
    kCompare,
    kAnd,
    kOr,
    kCond,
  };
  Kind kind;
  int line = 0;
  Value literal;               // kLiteral
  std::string name;            // kName, kAttr attribute, kFilter / kTest name, kBinary operator, kList "tuple"
  std::vector<ExprPtr> items;  // kList items; kDict keys/values interleaved; kSlice start/stop/step (may be null)
  ExprPtr a, b, c;             // operands: object, index, condition ...
  CallArgs args;               // kCall, kFilter, kTest
  bool negated = false;        // kTest: "is not"
  std::vector<std::pair<std::string, ExprPtr>> comparisons;  // kCompare: a (op b)...
  int depth = 1;                                             // levels of this tree, bounded by kMaxNesting

  Expr(Kind k, int l) : kind(k), line(l) {}
};

struct Stmt {
  enum class Kind { kText, kOutput, kIf, kFor, kSet, kSetBlock, kMacro, kBreak, kContinue, kBlock, kFilter };
  Kind kind;
  int line = 0;
  std::string text;                                     // kText
  ExprPtr expr;                                         // kOutput, kSet value, kFor iterable; kFilter and kSetBlock
                                                        // filters (a chain whose innermost operand is null)
  std::vector<std::pair<ExprPtr, Body>> branches;       // kIf: (condition, body); else has a null condition
  std::vector<std::string> targets;                     // kFor / kSet / kSetBlock names; kSet "ns.attr" uses attr
  std::string attr;                                     // kSet on a namespace attribute
  ExprPtr filter;                                       // kFor inline "if"
  Body body, else_body;                                 // kFor, kSetBlock, kMacro, kBlock, kFilter
  std::string name;                                     // kMacro
  std::vector<std::pair<std::string, ExprPtr>> params;  // kMacro (default may be null)

  Stmt(Kind k, int l) : kind(k), line(l) {}
};

}  // namespace mobilellm::jinja
