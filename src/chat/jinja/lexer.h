#pragma once
// Cuts template source into text and tags, applying Jinja's whitespace
// control the way transformers configures it (trim_blocks and lstrip_blocks
// on, "-" and "+" modifiers), then cuts tag contents into tokens.
#include <string>
#include <string_view>
#include <vector>

namespace mobilellm::jinja {

struct Segment {
  enum class Kind { kText, kExpression, kStatement };
  Kind kind;
  std::string text;  // literal text, or the tag's inside without delimiters and modifiers
  int line;
};

std::vector<Segment> split_template(std::string_view source);

struct Token {
  enum class Kind { kName, kInt, kFloat, kString, kOp, kEnd };
  Kind kind;
  std::string text;  // name, operator, or the string's decoded value
  int line;
};

std::vector<Token> tokenize_tag(std::string_view tag, int line);

}  // namespace mobilellm::jinja
