#pragma once
// The character classes the Llama-4 split regex distinguishes (spec §5):
// \p{Lu}|\p{Lt}, \p{Ll}, \p{Lm}|\p{Lo}, \p{M}, \p{N}, [\r\n], other \s, rest.
#include <cstdint>

namespace mobilellm::tokenizer {

enum class CharClass : uint8_t {
  kOther = 0,
  kUpper,        // Lu, Lt
  kLower,        // Ll
  kLetterOther,  // Lm, Lo
  kMark,         // Mn, Mc, Me
  kNumber,       // Nd, Nl, No
  kNewline,      // \r, \n
  kSpace,        // White_Space other than \r, \n
};

// Unicode 16.0 classes, the tables tiktoken's regex engine uses.
CharClass char_class(char32_t cp);

// Python's str.isspace(), which Meta's 25,000-character run splitting uses
// (it differs from White_Space on U+001C..U+001F).
bool is_python_space(char32_t cp);

}  // namespace mobilellm::tokenizer
