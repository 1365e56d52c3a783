#pragma once
#include <string>

#include "tokenizer/splitter.h"

namespace mobilellm::tokenizer {

// Any split regex, run by PCRE2 with JIT in UTF + Unicode-property mode. Text
// between matches is kept as pieces of its own (Hugging Face "Isolated").
class Pcre2Splitter final : public Splitter {
 public:
  explicit Pcre2Splitter(std::string_view pattern);
  ~Pcre2Splitter() override;
  Pcre2Splitter(const Pcre2Splitter&) = delete;
  Pcre2Splitter& operator=(const Pcre2Splitter&) = delete;

  void split(std::string_view text, std::vector<std::string_view>& pieces) const override;

 private:
  void* code_ = nullptr;  // pcre2_code_8*, kept opaque so pcre2.h stays out of headers
};

}  // namespace mobilellm::tokenizer
