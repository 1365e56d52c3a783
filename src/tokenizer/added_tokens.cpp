#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/byte_hash.h"

namespace mobilellm::tokenizer {

size_t AddedTokenMatcher::Hash::operator()(std::string_view s) const { return hash_bytes(s); }

void AddedTokenMatcher::add(std::string_view text, int32_t id) {
  if (text.empty() || !ids_.emplace(std::string(text), id).second) return;
  first_byte_[static_cast<unsigned char>(text[0])] = true;
  if (std::find(lengths_.begin(), lengths_.end(), text.size()) == lengths_.end()) {
    lengths_.push_back(text.size());
    std::sort(lengths_.begin(), lengths_.end(), std::greater<>());
  }
}

int32_t AddedTokenMatcher::find(std::string_view text) const {
  auto it = ids_.find(text);
  return it == ids_.end() ? -1 : it->second;
}

AddedTokenMatcher::Match AddedTokenMatcher::next(std::string_view text, size_t from) const {
  for (size_t i = from; i < text.size(); ++i) {
    if (!first_byte_[static_cast<unsigned char>(text[i])]) continue;
    for (size_t len : lengths_) {
      if (len > text.size() - i) continue;
      auto it = ids_.find(text.substr(i, len));
      if (it != ids_.end()) return {i, len, it->second};
    }
  }
  return {};
}

}  // namespace mobilellm::tokenizer
