// The JSON grammars: what they accept is exactly valid JSON of the schema's
// shape, checked on hand-picked texts and on every prefix of them.
#include "chat/grammar.h"

#include <gtest/gtest.h>

#include "chat/json_schema_grammar.h"
#include "runtime/error.h"

namespace mobilellm::chat {
namespace {

// Accepted as a whole, and every prefix stays alive.
bool accepts(const Grammar& g, const std::string& text) {
  Recognizer r(g);
  int32_t state = r.start();
  for (char c : text) {
    state = r.advance(state, static_cast<uint8_t>(c));
    if (state == Recognizer::kDead) return false;
  }
  return r.accepting(state);
}

TEST(Grammar, RepeatBounds) {
  Grammar g;
  g.set_root(g.repeat({g.byte('a')}, 2, 4));
  EXPECT_FALSE(accepts(g, "a"));
  EXPECT_TRUE(accepts(g, "aa"));
  EXPECT_TRUE(accepts(g, "aaaa"));
  EXPECT_FALSE(accepts(g, "aaaaa"));
  Grammar u;
  u.set_root(u.repeat({u.byte('a')}, 1, -1));
  EXPECT_FALSE(accepts(u, ""));
  EXPECT_TRUE(accepts(u, std::string(500, 'a')));
}

TEST(Grammar, LeftRecursionIsAnErrorNotACrash) {
  Grammar g;
  const int32_t r = g.add_rule();
  g.add_alternative(r, {Grammar::ref(r), g.byte('a')});
  g.set_root(r);
  EXPECT_THROW(Recognizer{g}, Error);
}

// Found by fuzz_json_schema: a non-boolean "nullable" escaped as nlohmann's
// type_error instead of an Error naming the schema path.
TEST(JsonGrammar, NullableMustBeBoolean) {
  try {
    json_schema_grammar(Json::parse(R"({"type": "string", "nullable": "yes"})"));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nullable: must be true or false"), std::string::npos) << e.what();
  }
  json_schema_grammar(Json::parse(R"({"type": "string", "nullable": true})"));
}

TEST(JsonGrammar, AnyObject) {
  const Grammar g = json_object_grammar();
  EXPECT_TRUE(accepts(g, R"({})"));
  EXPECT_TRUE(accepts(g, R"({"a": [1, -2.5e3, "x\u00e9\n", true, null, {"b": {}}], "c":"é😀"})"));
  EXPECT_TRUE(accepts(g, "{\n  \"a\": 1\n}"));
  EXPECT_FALSE(accepts(g, R"([1])"));
  EXPECT_FALSE(accepts(g, R"({"a": 1)"));
  EXPECT_FALSE(accepts(g, R"({'a': 1})"));
  EXPECT_FALSE(accepts(g, R"({"a": 01})"));
  EXPECT_FALSE(accepts(g, R"({"a": "\ud800"})"));     // lone surrogate escape
  EXPECT_FALSE(accepts(g, "{\"a\": \"\xC0\xAF\"}"));  // overlong UTF-8
  EXPECT_FALSE(accepts(g, "{\"a\": \"\x01\"}"));      // raw control character
  EXPECT_FALSE(accepts(g, "{}   "));                  // nothing after the value
}

TEST(JsonGrammar, SchemaObjectPropertiesInOrder) {
  const Json schema = Json::parse(R"({
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 5}, "age": {"type": "integer"},
                   "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 2}},
    "required": ["name", "tags"]})");
  const Grammar g = json_schema_grammar(schema);
  EXPECT_TRUE(accepts(g, R"({"name": "Ann", "age": 30, "tags": ["a"]})"));
  EXPECT_TRUE(accepts(g, R"({"name":"Ann","tags":[]})"));                 // optional age left out
  EXPECT_FALSE(accepts(g, R"({"name": "Ann"})"));                         // tags required
  EXPECT_FALSE(accepts(g, R"({"age": 3, "name": "Ann", "tags": []})"));   // declared order
  EXPECT_FALSE(accepts(g, R"({"name": "Annabel", "tags": []})"));         // maxLength
  EXPECT_FALSE(accepts(g, R"({"name": "A", "tags": ["c"]})"));            // enum
  EXPECT_FALSE(accepts(g, R"({"name": "A", "tags": ["a", "b", "a"]})"));  // maxItems
  EXPECT_FALSE(accepts(g, R"({"name": "A", "age": 1.5, "tags": []})"));   // integer
  EXPECT_FALSE(accepts(g, R"({"name": "A", "tags": [], "x": 1})"));       // undeclared
}

TEST(JsonGrammar, TypesAnyOfRefsAndRecursion) {
  const Json schema = Json::parse(R"({
    "$defs": {"node": {"type": "object", "properties": {"v": {"type": ["number", "null"]},
                                                       "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                       "required": ["v"]}},
    "anyOf": [{"$ref": "#/$defs/node"}, {"type": "boolean"}, {"const": "x"}]})");
  const Grammar g = json_schema_grammar(schema);
  EXPECT_TRUE(accepts(g, R"({"v": 1, "kids": [{"v": null}, {"v": 2.5, "kids": []}]})"));
  EXPECT_TRUE(accepts(g, "true"));
  EXPECT_TRUE(accepts(g, R"("x")"));
  EXPECT_FALSE(accepts(g, R"("y")"));
  EXPECT_FALSE(accepts(g, R"({"kids": []})"));
}

TEST(JsonGrammar, ToolCall) {
  const Grammar g = tool_call_grammar(
      {{"get_weather", Json::parse(R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")},
       {"noop", Json()}});
  EXPECT_TRUE(accepts(g, R"({"name": "get_weather", "parameters": {"city": "Paris"}})"));
  EXPECT_TRUE(accepts(g, R"({"name": "noop", "parameters": {"anything": [1]}})"));
  EXPECT_FALSE(accepts(g, R"({"name": "other", "parameters": {}})"));
  EXPECT_FALSE(accepts(g, R"({"name": "get_weather", "parameters": {}})"));
}

TEST(JsonGrammar, BadSchemasAreErrors) {
  for (const char* bad : {R"({"type": "decimal"})", R"({"enum": []})", R"({"$ref": "#/nope"})",
                          R"({"$ref": "http://x/y"})", "false", "3", R"({"type":"string","minLength":100000})"})
    EXPECT_THROW(json_schema_grammar(Json::parse(bad)), Error) << bad;
}

}  // namespace
}  // namespace mobilellm::chat
