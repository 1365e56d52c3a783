#include "tokenizer/splitter.h"

#include "tokenizer/llama4_splitter.h"
#include "tokenizer/pcre2_splitter.h"

namespace mobilellm::tokenizer {

const std::string_view kLlama4Pattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::unique_ptr<Splitter> make_splitter(std::string_view pattern) {
  if (pattern == kLlama4Pattern) return std::make_unique<Llama4Splitter>();
  return std::make_unique<Pcre2Splitter>(pattern);
}

}  // namespace mobilellm::tokenizer
