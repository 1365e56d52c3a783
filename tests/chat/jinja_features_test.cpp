// One small template per Jinja feature the real chat templates needed
// (comments with quotes, filter blocks, generators and dict views, Markup,
// jinja2's argument orders ...), against jinja2's rendering of each
// (tools/reference/tokenizer/template_reference.py --features-out). Where
// jinja2 raises, we raise an Error with the same message.
#include <gtest/gtest.h>

#include <string>

#include "chat/jinja/template.h"
#include "fixtures.h"
#include "runtime/error.h"

namespace mobilellm {
namespace {

TEST(JinjaFeatures, MatchJinja2) {
  const Json cases = Json::parse(test::read_all(test::reference_dir() / "jinja_features.json"));
  ASSERT_GE(cases.size(), 20u);
  for (const Json& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::string got, error;
    try {
      got = jinja::Template(c["source"].get<std::string>()).render(c["context"]);
    } catch (const Error& e) {
      error = e.what();
    }
    if (c.contains("expected")) {
      EXPECT_EQ(error, "");
      EXPECT_EQ(got, c["expected"].get<std::string>());
    } else {
      // jinja2's "TypeError: message": the message without Python's exception name.
      std::string want = c["error"].get<std::string>();
      want = want.substr(want.find(": ") + 2);
      EXPECT_NE(error.find(want), std::string::npos) << "we say: " << error << "\njinja2 says: " << want;
    }
  }
}

}  // namespace
}  // namespace mobilellm
