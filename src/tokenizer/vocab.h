#pragma once
// Token bytes by id, and the reverse lookup from bytes to id for the tokens
// BPE may produce. One contiguous arena and an open-addressing table keep
// the hot lookup (is this whole piece a token?) to one or two cache lines.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mobilellm::tokenizer {

class Vocab {
 public:
  // tokens[id] is the byte string of id; `lookup[id]` says whether find()
  // may return it (BPE tokens yes, special tokens no).
  Vocab(const std::vector<std::string>& tokens, const std::vector<bool>& lookup);

  size_t size() const { return offsets_.size() - 1; }
  std::string_view bytes(int32_t id) const {
    return std::string_view(arena_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  // The id whose bytes are exactly s, or -1.
  int32_t find(std::string_view s) const;

 private:
  // A slot holds the id in its low half and the high half of the key's hash
  // in its upper half, so a probe only touches the arena when the hashes
  // agree (one cache miss per lookup instead of one per probe).
  static constexpr uint64_t kEmpty = ~0ull;

  std::string arena_;
  std::vector<uint32_t> offsets_;
  std::vector<uint64_t> slots_;
  uint64_t mask_ = 0;
};

}  // namespace mobilellm::tokenizer
