#include "tokenizer/vocab.h"

#include <bit>
#include <cstring>

#include "tokenizer/byte_hash.h"

namespace mobilellm::tokenizer {

Vocab::Vocab(const std::vector<std::string>& tokens, const std::vector<bool>& lookup) {
  offsets_.reserve(tokens.size() + 1);
  size_t total = 0;
  for (const auto& t : tokens) total += t.size();
  arena_.reserve(total);
  size_t n_lookup = 0;
  for (size_t id = 0; id < tokens.size(); ++id) {
    offsets_.push_back(static_cast<uint32_t>(arena_.size()));
    arena_ += tokens[id];
    n_lookup += lookup[id];
  }
  offsets_.push_back(static_cast<uint32_t>(arena_.size()));

  // Load factor at most 1/2 keeps probe chains short.
  size_t cap = std::bit_ceil(std::max<size_t>(16, 2 * n_lookup));
  slots_.assign(cap, kEmpty);
  mask_ = cap - 1;
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (!lookup[id] || find(tokens[id]) >= 0) continue;  // first id wins for duplicate bytes
    uint64_t h = hash_bytes(tokens[id]);
    for (uint64_t i = h;; ++i) {
      uint64_t& slot = slots_[i & mask_];
      if (slot == kEmpty) {
        slot = (h & 0xFFFFFFFF00000000ull) | id;
        break;
      }
    }
  }
}

int32_t Vocab::find(std::string_view s) const {
  uint64_t h = hash_bytes(s);
  uint64_t tag = h & 0xFFFFFFFF00000000ull;
  for (uint64_t i = h;; ++i) {
    uint64_t slot = slots_[i & mask_];
    if (slot == kEmpty) return -1;
    if ((slot & 0xFFFFFFFF00000000ull) != tag) continue;
    auto id = static_cast<int32_t>(slot & 0xFFFFFFFFu);
    uint32_t begin = offsets_[id], len = offsets_[id + 1] - begin;
    if (len == s.size() && std::memcmp(arena_.data() + begin, s.data(), len) == 0) return id;
  }
}

}  // namespace mobilellm::tokenizer
