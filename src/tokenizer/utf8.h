#pragma once
// UTF-8 helpers for the tokenizer. Validation follows RFC 3629 (no surrogates,
// no overlongs, nothing above U+10FFFF); lossy repair follows the Unicode
// "maximal subpart" practice, which is what Python's errors="replace" does.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mobilellm::tokenizer {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid
// (truncated, overlong, surrogate, out of range). Sets *cp when valid.
size_t utf8_sequence(std::string_view s, size_t i, char32_t* cp);

// Byte offset of the first invalid sequence, or npos if s is valid UTF-8.
size_t find_invalid_utf8(std::string_view s);

// s with every maximal invalid subpart replaced by U+FFFD.
std::string replace_invalid_utf8(std::string_view s);

void append_utf8(std::string& out, char32_t cp);

// Number of bytes at the end of s that begin an incomplete but so far valid
// multi-byte sequence (0 if s ends on a character boundary).
size_t incomplete_utf8_tail(std::string_view s);

}  // namespace mobilellm::tokenizer
