#include "tokenizer/vocab.h"

#include <bit>

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
  slots_.assign(cap, -1);
  mask_ = cap - 1;
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (!lookup[id] || find(tokens[id]) >= 0) continue;  // first id wins for duplicate bytes
    for (uint64_t h = hash_bytes(tokens[id]);; ++h) {
      int32_t& slot = slots_[h & mask_];
      if (slot < 0) {
        slot = static_cast<int32_t>(id);
        break;
      }
    }
  }
}

int32_t Vocab::find(std::string_view s) const {
  for (uint64_t h = hash_bytes(s);; ++h) {
    int32_t id = slots_[h & mask_];
    if (id < 0) return -1;
    if (bytes(id) == s) return id;
  }
}

}  // namespace mobilellm::tokenizer
