#include "tokenizer/merge_table.h"

#include <bit>

namespace mobilellm::tokenizer {

MergeTable::MergeTable(const std::vector<Merge>& merges) {
  size_t cap = std::bit_ceil(std::max<size_t>(16, 2 * merges.size()));
  slots_.assign(cap, Slot{kEmpty, {}});
  mask_ = cap - 1;
  for (const Merge& m : merges) {
    uint64_t key = pack(m.left, m.right);
    for (uint64_t h = hash(key);; ++h) {
      Slot& s = slots_[h & mask_];
      if (s.key == key) break;  // a repeated pair keeps its first (highest) priority
      if (s.key == kEmpty) {
        s = Slot{key, Result{m.result, m.priority}};
        break;
      }
    }
  }
}

}  // namespace mobilellm::tokenizer
