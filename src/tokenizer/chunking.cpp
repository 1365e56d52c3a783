#include "tokenizer/chunking.h"

#include "tokenizer/unicode_class.h"
#include "tokenizer/utf8.h"

namespace mobilellm::tokenizer {
namespace {

// _split_whitespaces_or_nonwhitespaces of tokenizer.py on one slice.
void split_runs(std::string_view s, std::vector<std::string_view>& chunks) {
  size_t start = 0, run = 0;
  bool run_is_space = false;
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    size_t n = utf8_sequence(s, i, &cp);
    bool space = is_python_space(cp);
    if (i == 0 || space != run_is_space) {
      run_is_space = space;
      run = 1;
    } else if (++run > kMaxRunChars) {
      chunks.push_back(s.substr(start, i - start));
      start = i;
      run = 1;
    }
    i += n;
  }
  chunks.push_back(s.substr(start));
}

}  // namespace

void split_chunks(std::string_view text, std::vector<std::string_view>& chunks) {
  // Fewer bytes than the run limit: no rule can apply.
  if (text.size() <= kMaxRunChars) {
    chunks.push_back(text);
    return;
  }
  size_t start = 0, count = 0;
  for (size_t i = 0; i < text.size();) {
    if (count == kMaxEncodeChars) {
      split_runs(text.substr(start, i - start), chunks);
      start = i;
      count = 0;
    }
    char32_t cp;
    i += utf8_sequence(text, i, &cp);
    ++count;
  }
  split_runs(text.substr(start), chunks);
}

}  // namespace mobilellm::tokenizer
