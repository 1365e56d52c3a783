#pragma once
// A compact Jinja interpreter for chat templates. It renders what Hugging
// Face chat templates use in practice, as transformers' sandboxed jinja2
// environment does (trim_blocks, lstrip_blocks, loop controls, tojson as
// json.dumps, raise_exception, strftime_now, namespace): expressions and
// filters, if/elif/else, for with loop variables and else, set (also on
// namespaces and as a block, with filters), filter blocks, macros,
// break/continue, raw; and the Python values a template can tell apart
// (generators and dict views from filters and methods, Markup from safe and
// escape). Every template of tests/chat/chat_templates renders as
// jinja2 renders it.
//
//   jinja::Template t(source);
//   std::string text = t.render({{"messages", messages}, {"add_generation_prompt", true}});
#include <memory>
#include <string>
#include <string_view>

#include "chat/jinja/value.h"

namespace mobilellm::jinja {

struct Stmt;

class Template {
 public:
  // Throws mobilellm::Error naming the line of a syntax error. `origin`
  // (the file that holds the template) starts every message when not empty.
  explicit Template(std::string_view source, std::string origin = {});
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // `context` is a JSON object of template variables. Throws mobilellm::Error
  // for errors while rendering, including the template's raise_exception()
  // and a limit of chat/jinja/limits.h passed.
  std::string render(const Json& context) const;

 private:
  std::shared_ptr<const std::vector<std::unique_ptr<Stmt>>> body_;
  std::string origin_;
};

}  // namespace mobilellm::jinja
