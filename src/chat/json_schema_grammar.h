#pragma once
// Grammars for JSON output: any JSON object (response_format json_object), the
// JSON texts valid for a JSON Schema (json_schema, and the arguments of a
// forced tool call), and a tool call {"name": …, "parameters": …}.
//
// Schema keywords that shape the grammar: type (one or a list), enum, const,
// properties (in their declared order), required, additionalProperties, items,
// prefixItems, minItems/maxItems, minLength/maxLength, anyOf/oneOf, allOf
// (merged), $ref into the same document ($defs, definitions), nullable.
// Keywords that only restrict values further (pattern, format, minimum,
// maximum, multipleOf, uniqueItems, …) are not enforced: the output is still
// JSON of the right shape. Properties not declared are not generated unless
// the object declares none. Whitespace between tokens is limited so a model
// cannot loop on it. Errors throw mobilellm::Error naming the schema path.
#include <string>
#include <vector>

#include "chat/grammar.h"
#include "chat/json.h"

namespace mobilellm::chat {

Grammar json_object_grammar();
Grammar json_schema_grammar(const Json& schema);

struct ToolSchema {
  std::string name;
  Json parameters;  // a JSON Schema for the arguments
};
// One call of one of `tools`, as the model writes it: {"name": "f", "parameters": {…}}.
Grammar tool_call_grammar(const std::vector<ToolSchema>& tools);

}  // namespace mobilellm::chat
