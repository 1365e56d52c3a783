#pragma once
#include "tokenizer/splitter.h"

namespace mobilellm::tokenizer {

// A matcher written out by hand for kLlama4Pattern. It follows the regex's
// backtracking (leftmost-first) semantics alternative by alternative, so it
// equals tiktoken's fancy-regex; tests compare it with tiktoken on every code
// point class and with PCRE2 on random strings.
class Llama4Splitter final : public Splitter {
 public:
  void split(std::string_view text, std::vector<std::string_view>& pieces) const override;
};

}  // namespace mobilellm::tokenizer
