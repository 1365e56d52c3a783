#pragma once
#include <string_view>

#include "chat/jinja/ast.h"

namespace mobilellm::jinja {

// Throws mobilellm::Error naming the template line on a syntax error or an
// unsupported construct.
Body parse_template(std::string_view source);

}  // namespace mobilellm::jinja
