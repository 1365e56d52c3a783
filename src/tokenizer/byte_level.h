#pragma once
// GPT-2's byte-level alphabet, which Hugging Face tokenizer.json uses to
// store byte tokens as printable text: printable Latin-1 bytes stand for
// themselves, the other 68 bytes for U+0100..U+0143 in byte order.
#include <optional>
#include <string>
#include <string_view>

namespace mobilellm::tokenizer {

// The bytes a byte-level string stands for, or nullopt if it has a character
// outside the alphabet (or is not valid UTF-8).
std::optional<std::string> byte_level_decode(std::string_view s);

}  // namespace mobilellm::tokenizer
