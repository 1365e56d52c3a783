#include "chat/tool_calls.h"

#include <gtest/gtest.h>

#include "chat/json.h"

namespace mobilellm::chat {
namespace {

const std::vector<std::string> kTools = {"get_weather", "search"};

TEST(ToolCalls, JsonObject) {
  auto calls = parse_tool_calls(R"( {"name": "get_weather", "parameters": {"city": "Paris"}} )", kTools);
  ASSERT_TRUE(calls);
  ASSERT_EQ(calls->size(), 1u);
  EXPECT_EQ((*calls)[0].name, "get_weather");
  EXPECT_EQ(Json::parse((*calls)[0].arguments), Json::parse(R"({"city": "Paris"})"));
}

TEST(ToolCalls, SeveralForms) {
  auto wrapped =
      parse_tool_calls(R"(<|python_start|>{"name": "search", "arguments": "{\"q\": \"x\"}"}<|python_end|>)", kTools);
  ASSERT_TRUE(wrapped);
  EXPECT_EQ((*wrapped)[0].arguments, R"({"q":"x"})");
  auto list = parse_tool_calls(
      R"([{"name": "search", "parameters": {}}, {"name": "get_weather", "parameters": {"city": "Oslo"}}])", kTools);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 2u);
  auto separated =
      parse_tool_calls("{\"name\": \"search\", \"parameters\": {\"q\": \"}\"}};\n{\"name\": \"search\"}", kTools);
  ASSERT_TRUE(separated);
  EXPECT_EQ(separated->size(), 2u);
  EXPECT_EQ((*separated)[1].arguments, "{}");
}

TEST(ToolCalls, PythonSyntax) {
  auto calls = parse_tool_calls(
      R"([get_weather(city="Paris", days=3, hourly=True, extra=None, at=[1, 2.5], m={'a': 'b\'c'}), search()])",
      kTools);
  ASSERT_TRUE(calls);
  ASSERT_EQ(calls->size(), 2u);
  EXPECT_EQ(
      Json::parse((*calls)[0].arguments),
      Json::parse(R"({"city": "Paris", "days": 3, "hourly": true, "extra": null, "at": [1, 2.5], "m": {"a": "b'c"}})"));
  EXPECT_EQ((*calls)[1].arguments, "{}");
  EXPECT_TRUE(parse_tool_calls("get_weather(city='Rome')", kTools));
}

TEST(ToolCalls, AnythingElseIsContent) {
  for (const char* text :
       {"", "Hello there", "[1, 2, 3]", R"({"a": 1})", R"({"name": "unknown_tool", "parameters": {}})",
        R"({"name": "search", "parameters": [1]})", "[get_weather(city=)]", "get_weather(city=\"x\"",
        "{\"name\": \"search\", \"parameters\": {}} trailing words", "[search(q=\"\xff\")]"})
    EXPECT_FALSE(parse_tool_calls(text, kTools)) << text;
}

TEST(ToolCalls, HoldBackDecision) {
  EXPECT_TRUE(may_be_tool_call("", kTools));
  EXPECT_TRUE(may_be_tool_call("  {\"na", kTools));
  EXPECT_TRUE(may_be_tool_call("[get", kTools));
  EXPECT_TRUE(may_be_tool_call("<|python_st", kTools));
  EXPECT_TRUE(may_be_tool_call("get_wea", kTools));
  EXPECT_FALSE(may_be_tool_call("The weather", kTools));
  EXPECT_FALSE(may_be_tool_call("get_weathers", kTools));
}

// A model may write JSON nested without bound: past the request limit it is
// content, not a tool call (dumping the arguments recurses).
TEST(ToolCalls, DeepArgumentsAreContent) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(parse_tool_calls("{\"name\": \"get_weather\", \"parameters\": {\"a\": " + deep + "}}", kTools));
  EXPECT_TRUE(parse_tool_calls("{\"name\": \"get_weather\", \"parameters\": {\"a\": [[1]]}}", kTools));
}

}  // namespace
}  // namespace mobilellm::chat
