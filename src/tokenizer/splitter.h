#pragma once
// Pre-tokenization: cutting text into the pieces that BPE encodes separately.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mobilellm::tokenizer {

// The Llama-4 (o200k-style) split regex of spec §5.
extern const std::string_view kLlama4Pattern;

class Splitter {
 public:
  virtual ~Splitter() = default;
  // Appends the pieces of `text` (valid UTF-8) to `pieces`, in order; together
  // they cover the text exactly.
  virtual void split(std::string_view text, std::vector<std::string_view>& pieces) const = 0;
};

// GPT-2's pattern (Hugging Face ByteLevel with "use_regex", llama.cpp "gpt-2").
extern const std::string_view kGpt2Pattern;

// The hand-written matcher for kLlama4Pattern (exact, with Unicode 16 classes),
// or PCRE2 with JIT for any other pattern (Unicode classes of Debian's PCRE2).
// Several patterns apply in turn, each to the pieces of the one before (the
// stages of llama.cpp's regex_exprs, or a Hugging Face Sequence of Splits).
std::unique_ptr<Splitter> make_splitter(const std::vector<std::string>& patterns);

}  // namespace mobilellm::tokenizer
