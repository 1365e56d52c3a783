// Chat rendering against Python's jinja2 as transformers runs it
// (tools/reference/tokenizer/chat_reference.py): the Llama-4 template shipped
// with transformers, rendered by our Jinja interpreter from the checkpoint's
// copy and as the built-in fallback, and a set of small templates covering
// the Jinja features chat templates use.
#include <gtest/gtest.h>

#include "chat/chat_format.h"
#include "chat/jinja/template.h"
#include "chat/llama4_chat_template.h"
#include "fixtures.h"
#include "runtime/error.h"

namespace mobilellm {
namespace {

const Json& cases() {
  static const Json j = Json::parse(test::read_all(test::reference_dir() / "chat_cases.json"));
  return j;
}

std::vector<ChatMessage> to_messages(const Json& list) {
  std::vector<ChatMessage> out;
  for (const Json& m : list) {
    ChatMessage msg;
    msg.role = m["role"].get<std::string>();
    const Json content = m.value("content", Json(""));
    msg.content_is_json = !content.is_string();
    msg.content = msg.content_is_json ? content.dump() : content.get<std::string>();
    for (const Json& c : m.value("tool_calls", Json::array()))
      msg.tool_calls.push_back(
          {c.value("id", ""), c["function"]["name"].get<std::string>(), c["function"]["arguments"].dump()});
    msg.name = m.value("name", "");
    msg.tool_call_id = m.value("tool_call_id", "");
    out.push_back(std::move(msg));
  }
  return out;
}

TEST(Chat, Llama4TemplateMatchesJinja2) {
  ChatFormat templated =
      ChatFormat::from_template(cases()["llama4_template"].get<std::string>(), "<|begin_of_text|>", "<|eot|>");
  ChatFormat builtin;
  ASSERT_GE(cases()["chat"].size(), 6u);
  for (const Json& c : cases()["chat"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<ChatMessage> messages = to_messages(c["messages"]);
    bool agp = c["add_generation_prompt"].get<bool>();
    std::string want = c["expected"].get<std::string>();
    EXPECT_EQ(templated.render(messages, c["tools"], agp, c["extra"]), want);
    EXPECT_EQ(builtin.render(messages, c["tools"], agp, c["extra"]), want);
  }
}

TEST(Chat, KnownVectorFromMessages) {
  Tokenizer tok = Tokenizer::load(test::model_path());
  std::string prompt = ChatFormat(tok).render({{"user", "Who are you?"}});
  EXPECT_EQ(tok.encode(prompt, {.parse_special = true}),
            (std::vector<int32_t>{200000, 200005, 1556, 200006, 368, 33267, 583, 650, 43, 200008, 200005, 140680,
                                  200006, 368}));
}

// The fallback is transformers' template itself, not a copy that could drift.
TEST(Chat, BuiltinIsTransformersLlama4Template) {
  EXPECT_EQ(std::string(kLlama4ChatTemplate), cases()["llama4_template"].get<std::string>());
}

TEST(Chat, BuiltinErrors) {
  ChatFormat builtin;
  EXPECT_THROW(builtin.render({}, nullptr, true), Error);
  EXPECT_THROW(builtin.render({{"system", "s"}}, Json::array({Json::object()}), true), Error);  // tools, no user turn
}

TEST(Jinja, MatchesJinja2) {
  ASSERT_GE(cases()["jinja"].size(), 10u);
  for (const Json& c : cases()["jinja"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    jinja::Template t(c["template"].get<std::string>());
    if (c.contains("error")) {
      try {
        t.render(c["context"]);
        ADD_FAILURE() << "expected an error";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(c["error"].get<std::string>()), std::string::npos) << e.what();
      }
    } else {
      EXPECT_EQ(t.render(c["context"]), c["expected"].get<std::string>());
    }
  }
}

TEST(Jinja, ErrorsNameTheLine) {
  auto error_of = [](const std::string& src, const Json& ctx) -> std::string {
    try {
      jinja::Template(src).render(ctx);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(error_of("a\n{% if x %}", Json::object()).find("missing {% endif %}"), std::string::npos);
  EXPECT_NE(error_of("a\nb\n{{ x.y }}", Json::object()).find("line 3: 'x' is undefined"), std::string::npos);
  EXPECT_NE(error_of("{% include 'x' %}", Json::object()).find("unsupported statement 'include'"), std::string::npos);
  EXPECT_NE(error_of("{{ 1 + }}", Json::object()).find("line 1"), std::string::npos);
  EXPECT_NE(error_of("{{ x | nosuch }}", Json::object()).find("unknown filter 'nosuch'"), std::string::npos);
  EXPECT_NE(error_of("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", Json::object())
                .find("macro calls nest deeper than 100 levels"),
            std::string::npos);
}

}  // namespace
}  // namespace mobilellm
