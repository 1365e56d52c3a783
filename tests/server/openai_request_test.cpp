#include "server/openai_request.h"

#include <gtest/gtest.h>

#include "server/api_error.h"

namespace mobilellm::server {
namespace {

ChatRequest chat(const char* body) { return parse_chat_request(Json::parse(body), Sampling{}); }
CompletionRequest completion(const char* body) { return parse_completion_request(Json::parse(body), Sampling{}, 1000); }

// The parameter an invalid body is blamed on.
std::string blamed(const std::function<void()>& parse) {
  try {
    parse();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.body()["error"]["param"].is_null() ? "" : e.body()["error"]["param"].get<std::string>();
  }
  return "(accepted)";
}

TEST(OpenAIRequest, ChatFields) {
  ChatRequest r = chat(R"({"model": "m", "messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "user", "content": [{"type": "text", "text": "hi "}, {"type": "text", "text": "there"}]},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "42"}],
    "temperature": 0, "top_p": 0.5, "max_tokens": 7, "max_completion_tokens": 9, "stop": "END", "seed": 3,
    "stream": true, "stream_options": {"include_usage": true}, "ignore_eos": true,
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "tool_choice": {"type": "function", "function": {"name": "f"}}, "logprobs": true, "top_logprobs": 2})");
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "hi there");
  EXPECT_EQ(r.messages[2].tool_calls.at(0).name, "f");
  EXPECT_EQ(r.messages[3].tool_call_id, "c1");
  EXPECT_EQ(r.common.sampling.temperature, 0);
  EXPECT_EQ(*r.common.max_tokens, 9);  // max_completion_tokens wins
  EXPECT_EQ(r.common.stop, std::vector<std::string>{"END"});
  EXPECT_TRUE(r.common.include_usage);
  EXPECT_TRUE(r.common.ignore_eos);
  EXPECT_EQ(r.tool_choice, ToolChoice::kNamed);
  EXPECT_EQ(r.top_logprobs, 2);
}

TEST(OpenAIRequest, ChatErrorsNameTheParameter) {
  EXPECT_EQ(blamed([] { chat(R"({"messages": "hi"})"); }), "messages");
  EXPECT_EQ(blamed([] { chat(R"({"messages": []})"); }), "messages");
  EXPECT_EQ(blamed([] { chat(R"({"messages": [{"role": "robot", "content": "x"}]})"); }), "messages[0].role");
  EXPECT_EQ(blamed([] { chat(R"({"messages": [{"role": "user"}]})"); }), "messages[0].content");
  EXPECT_EQ(blamed([] { chat(R"({"messages": [{"role": "user", "content": "x"}], "temperature": 3})"); }),
            "temperature");
  EXPECT_EQ(blamed([] { chat(R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})"); }),
            "temperature");
  EXPECT_EQ(blamed([] { chat(R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0})"); }), "max_tokens");
  EXPECT_EQ(blamed([] { chat(R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 1.5})"); }),
            "max_tokens");
  EXPECT_EQ(blamed([] { chat(R"({"messages": [{"role": "user", "content": "x"}], "n": 2})"); }), "n");
  EXPECT_EQ(blamed([] { chat(R"({"messages": [{"role": "user", "content": "x"}], "stop": ["a","b","c","d","e"]})"); }),
            "stop");
  EXPECT_EQ(blamed([] { chat(R"({"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"})"); }),
            "tool_choice");
  EXPECT_EQ(blamed([] { chat(R"({"messages": [{"role": "user", "content": "x"}], "stream_options": {}})"); }),
            "stream_options");
  EXPECT_EQ(
      blamed([] { chat(R"({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "xml"}})"); }),
      "response_format.type");
  EXPECT_EQ(blamed([] { chat(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"); }),
            "messages[0].content[0].type");
  EXPECT_EQ(blamed([] { chat(R"([1, 2])"); }), "body");
}

TEST(OpenAIRequest, CompletionPrompts) {
  EXPECT_EQ(completion(R"({"prompt": "hi"})").prompts.size(), 1u);
  EXPECT_EQ(completion(R"({"prompt": ["a", "b"]})").prompts.size(), 2u);
  auto ids = completion(R"({"prompt": [1, 2, 3], "max_tokens": 0, "echo": true, "logprobs": 1})");
  EXPECT_EQ(std::get<std::vector<int32_t>>(ids.prompts[0]), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(ids.logprobs, 1);
  EXPECT_EQ(completion(R"({"prompt": [[1], [2, 3]]})").prompts.size(), 2u);
  EXPECT_EQ(*completion(R"({"prompt": "x"})").common.max_tokens, 16);  // OpenAI's default
}

TEST(OpenAIRequest, CompletionErrors) {
  EXPECT_EQ(blamed([] { completion(R"({})"); }), "prompt");
  EXPECT_EQ(blamed([] { completion(R"({"prompt": []})"); }), "prompt");
  EXPECT_EQ(blamed([] { completion(R"({"prompt": [1, 1000]})"); }), "prompt");
  EXPECT_EQ(blamed([] { completion(R"({"prompt": [[1], [-1]]})"); }), "prompt[1]");
  EXPECT_EQ(blamed([] { completion(R"({"prompt": [{"a": 1}]})"); }), "prompt[0]");
  EXPECT_EQ(blamed([] { completion(R"({"prompt": "x", "max_tokens": 0})"); }), "max_tokens");
  EXPECT_EQ(blamed([] { completion(R"({"prompt": "x", "logprobs": 21})"); }), "logprobs");
  EXPECT_EQ(blamed([] { completion(R"({"prompt": "x", "echo": 1})"); }), "echo");
}

TEST(OpenAIRequest, DeepJsonIsRefused) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_THROW(parse_request_json(deep), ApiError);
  EXPECT_THROW(parse_request_json("{\"a\": "), ApiError);
}

// Found by fuzz_openai_request: a number past the double range escaped as
// nlohmann's out_of_range instead of a 400, which names the parameter.
TEST(OpenAIRequest, NumberPastDoubleRangeIs400) {
  EXPECT_EQ(blamed([] { parse_request_json("{\"temperature\": 1e999}"); }), "temperature");
}

// Tool-call arguments arrive as JSON text inside the request: their nesting
// is bounded like the body's (the chat format dumps them recursively).
TEST(OpenAIRequest, DeepToolArgumentsAreRefused) {
  std::string args = std::string(1000, '[') + std::string(1000, ']');
  Json body = {
      {"messages",
       Json::array({{{"role", "assistant"},
                     {"content", ""},
                     {"tool_calls",
                      Json::array({{{"type", "function"},
                                    {"function", {{"name", "f"}, {"arguments", "{\"a\": " + args + "}"}}}}})}}})}};
  EXPECT_EQ(blamed([&] { parse_chat_request(body, Sampling{}); }), "messages[0].tool_calls[0].function.arguments");
}

}  // namespace
}  // namespace mobilellm::server
