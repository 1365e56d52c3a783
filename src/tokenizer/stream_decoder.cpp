#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace mobilellm {

std::string StreamDecoder::push(int32_t id) {
  held_ += tokenizer_.token_bytes(id);
  size_t keep = tokenizer::incomplete_utf8_tail(held_);
  std::string out = tokenizer::replace_invalid_utf8(std::string_view(held_).substr(0, held_.size() - keep));
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = tokenizer::replace_invalid_utf8(held_);
  held_.clear();
  return out;
}

}  // namespace mobilellm
