#pragma once
// Finds added (special) token text inside a string: leftmost match, longest
// on ties, as Hugging Face's added-vocabulary matcher does.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mobilellm::tokenizer {

class AddedTokenMatcher {
 public:
  struct Match {
    size_t pos = std::string_view::npos;
    size_t len = 0;
    int32_t id = -1;
  };

  void add(std::string_view text, int32_t id);
  bool empty() const { return ids_.empty(); }
  // The exact token `text`, or -1.
  int32_t find(std::string_view text) const;
  // The first match at or after `from` (pos == npos if none).
  Match next(std::string_view text, size_t from) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const;
  };
  std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> ids_;
  std::vector<size_t> lengths_;  // distinct token lengths, longest first
  bool first_byte_[256] = {};
};

}  // namespace mobilellm::tokenizer
