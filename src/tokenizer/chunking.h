#pragma once
// Meta's long-input rules (llama-models tokenizer.py, spec §5): slices of
// 400,000 code points, each cut again so that no run of whitespace or of
// non-whitespace (Python str.isspace) is longer than 25,000 code points.
// Each chunk is encoded on its own; this bounds the regex and BPE work.
#include <cstddef>
#include <string_view>
#include <vector>

namespace mobilellm::tokenizer {

inline constexpr size_t kMaxEncodeChars = 400'000;
inline constexpr size_t kMaxRunChars = 25'000;

// Appends the chunks of `text` (valid UTF-8) to `chunks`.
void split_chunks(std::string_view text, std::vector<std::string_view>& chunks);

}  // namespace mobilellm::tokenizer
