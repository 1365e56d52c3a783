// The Jinja interpreter under hostile templates (chat/jinja/limits.h):
// each of these crashed or hung before the limits, and each must now be a
// mobilellm::Error that names the template's file and the limit, within
// seconds. Real chat templates of common models still render exactly as
// Python's jinja2 renders them (tools/reference/tokenizer/template_reference.py).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "chat/jinja/template.h"
#include "chat/jinja/value.h"
#include "fixtures.h"
#include "runtime/error.h"

namespace mobilellm {
namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// The message of the Error that parsing or rendering `source` throws.
std::string error_of(const std::string& source) {
  try {
    jinja::Template("{}", "model/tokenizer_config.json");  // the origin prefix is exercised on a valid template too
    jinja::Template(source, "model/tokenizer_config.json").render(Json{{"n", 3}});
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct Hostile {
  const char* name;
  std::string source;
  const char* limit;  // in the message
};

TEST(JinjaLimits, HostileTemplatesAreClearErrorsWithinSeconds) {
  const std::string ns = "{% set ns = namespace(s='ab', l=[1]) %}";
  const Hostile cases[] = {
      {"deep brackets", "{{ " + repeat("[", 100000) + " }}", "expressions nest deeper than 200 levels"},
      {"deep parentheses", "{{ " + repeat("(", 100000) + "1" + repeat(")", 100000) + " }}",
       "expressions nest deeper than 200 levels"},
      {"deep if", repeat("{% if true %}", 100000) + repeat("{% endif %}", 100000),
       "blocks nest deeper than 200 levels"},
      {"deep for", repeat("{% for x in [1] %}", 1000) + repeat("{% endfor %}", 1000),
       "blocks nest deeper than 200 levels"},
      {"long + chain", "{{ 1" + repeat(" + 1", 100000) + " }}", "expressions nest deeper than 200 levels"},
      {"long filter chain", "{{ 'a'" + repeat(" | trim", 100000) + " }}", "expressions nest deeper than 200 levels"},
      {"deep filter blocks", repeat("{% filter upper %}", 100000) + repeat("{% endfilter %}", 100000),
       "blocks nest deeper than 200 levels"},
      {"long filter-block chain", "{% filter trim" + repeat(" | trim", 100000) + " %}x{% endfilter %}",
       "expressions nest deeper than 200 levels"},
      {"long set-block chain", "{% set x | trim" + repeat(" | trim", 100000) + " %}x{% endset %}",
       "expressions nest deeper than 200 levels"},
      {"not not not", "{{ " + repeat("not ", 100000) + "1 }}", "expressions nest deeper than 200 levels"},
      {"nested calls", "{{ " + repeat("f(", 100000) + repeat(")", 100000) + " }}",
       "expressions nest deeper than 200 levels"},
      {"conditional chain", "{{ " + repeat("1 if 0 else ", 100000) + "1 }}", "expressions nest deeper than 200 levels"},
      {"infinite macro recursion", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
       "macro calls nest deeper than 100 levels"},
      {"macro recursion through blocks",
       "{% macro f() %}" + repeat("{% if true %}", 150) + "{{ f() }}" + repeat("{% endif %}", 150) +
           "{% endmacro %}{{ f() }}",
       "rendering nests deeper than 400 levels"},
      {"huge range", "{% for i in range(1000000000000) %}{% endfor %}", "a list would have more than 1048576 items"},
      {"nested loops", "{% for i in range(1000) %}{% for j in range(1000) %}{{ i }}{% endfor %}{% endfor %}",
       "rendering takes more than 1000000 steps"},
      {"string multiplication", "{{ 'a' * 1000000000000 }}", "a string would be larger than 64 MiB"},
      {"list multiplication", "{{ [1, 2] * 1000000000000 }}", "a list would have more than 1048576 items"},
      {"string doubling", ns + "{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
       "a string would be larger than 64 MiB"},
      {"string doubling by ~", ns + "{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
       "a string would be larger than 64 MiB"},
      {"list doubling", ns + "{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
       "a list would have more than 1048576 items"},
      {"string growth", ns + "{% for i in range(100000) %}{% set ns.s = ns.s ~ ('x' * 10000) %}{% endfor %}",
       "rendering builds more than 1024 MiB of strings"},
      {"deeply nested value", ns + "{% for i in range(100000) %}{% set ns.l = [ns.l] %}{% endfor %}",
       "lists and dicts nest deeper than 100 levels"},
      {"shared tree printed", ns + "{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}",
       "rendering takes more than 1000000 steps"},
      {"namespace cycle", ns + "{% set ns.l = [ns] %}", "a namespace attribute cannot hold a namespace"},
      {"huge indent", "{{ 'a\nb' | indent(1000000000000) }}", "a string would be larger than 64 MiB"},
      {"huge tojson indent", "{{ [[1]] | tojson(indent=2000000000) }}", "a string would be larger than 64 MiB"},
      {"replace blow-up", "{{ ('a' * 10000000) | replace('a', 'aaaaaaaaaaaaaaaaaaaa') }}",
       "a string would be larger than 64 MiB"},
      {"join blow-up", "{{ ('x' * 1000000).join(range(1000) | map('string')) }}",
       "a string would be larger than 64 MiB"},
      {"output size", "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
       "a string would be larger than 64 MiB"},
      {"int overflow in sum", "{{ [9223372036854775807, 1] | sum }}", "integer overflow in 'sum'"},
      {"abs of the smallest int", "{{ (-9223372036854775807 - 1) | abs }}", "integer overflow in 'abs'"},
      {"int of a huge float", "{{ 1e300 | int }}", "does not fit 64 bits"},
  };
  for (const Hostile& c : cases) {
    SCOPED_TRACE(c.name);
    auto start = std::chrono::steady_clock::now();
    std::string message = error_of(c.source);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_NE(message.find(c.limit), std::string::npos) << message;
    EXPECT_EQ(message.rfind("model/tokenizer_config.json: chat template", 0), 0u) << message;
    EXPECT_LT(seconds, 10.0);
  }
}

// Just inside the bounds still renders: the limits refuse only what is past them.
TEST(JinjaLimits, DeepButBoundedTemplatesRender) {
  jinja::Template parens("{{ " + repeat("(", 190) + "n" + repeat(")", 190) + " }}");
  EXPECT_EQ(parens.render(Json{{"n", 3}}), "3");
  jinja::Template ifs(repeat("{% if true %}", 190) + "x" + repeat("{% endif %}", 190));
  EXPECT_EQ(ifs.render(Json::object()), "x");
  jinja::Template recursion("{% macro f(k) %}{% if k > 0 %}{{ f(k - 1) }}{% endif %}{{ k }}{% endmacro %}{{ f(n) }}");
  EXPECT_EQ(recursion.render(Json{{"n", 90}}).size(), 10u + 2 * 81);
  jinja::Template loops("{% for i in range(n) %}{% for j in range(n) %}.{% endfor %}{% endfor %}");
  EXPECT_EQ(loops.render(Json{{"n", 300}}), std::string(90000, '.'));
}

TEST(JinjaLimits, DeepContextIsRefused) {
  Json deep = 1;
  for (int i = 0; i < 1000; ++i) deep = Json::array({deep});
  try {
    jinja::Template("{{ x }}").render(Json{{"x", deep}});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nests deeper than 100 levels"), std::string::npos) << e.what();
  }
}

// llama.cpp's collection of common models' templates, each on seven
// conversations, against jinja2 as transformers runs it. Every template
// parses (jinja2 compiles them all) and no rendering may hit a limit. A
// rendering matches when the text is jinja2's, or when jinja2 refuses the
// conversation (raise_exception, a None or dict where the template adds
// strings, tojson of a generator) and we refuse it too. Differences are
// listed in the output; kMatchedToday is every case, so any regression fails.
bool is_limit(const std::string& message) {
  for (const char* limit :
       {"nest deeper than", "takes more than", "larger than", "more than 1048576", "builds more than"})
    if (message.find(limit) != std::string::npos) return true;
  return false;
}

constexpr int kMatchedToday = 182;

TEST(JinjaLimits, RealTemplatesRenderAsJinja2) {
  const Json cases = Json::parse(test::read_all(test::reference_dir() / "real_templates.json"));
  ASSERT_GE(cases.size(), 182u);
  int matched = 0;
  for (const Json& c : cases) {
    const std::string name = c["template"].get<std::string>() + " / " + c["case"].get<std::string>();
    SCOPED_TRACE(name);
    std::optional<jinja::Template> t;
    try {
      t.emplace(c["source"].get<std::string>(), c["template"].get<std::string>());
    } catch (const Error& e) {
      ADD_FAILURE() << "jinja2 compiles the template, we do not: " << e.what();
      continue;
    }
    try {
      std::string got = t->render(c["context"]);
      if (c.contains("error"))
        std::printf("differs %s: jinja2 refused it (%s)\n", name.c_str(), c["error"].get<std::string>().c_str());
      else if (got != c["expected"].get<std::string>())
        std::printf("differs %s: other text\n", name.c_str());
      else
        ++matched;
    } catch (const Error& e) {
      EXPECT_FALSE(is_limit(e.what())) << e.what();
      if (!c.contains("error"))
        std::printf("differs %s: %s\n", name.c_str(), e.what());
      else
        ++matched;  // refused by both
    }
  }
  std::printf("%d of %zu renderings match jinja2\n", matched, cases.size());
  EXPECT_GE(matched, kMatchedToday);
}

}  // namespace
}  // namespace mobilellm
