#pragma once
// Which adjacent token pairs BPE may merge, into what, and in which order.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mobilellm::tokenizer {

class MergeTable {
 public:
  struct Merge {
    int32_t left, right;
    int32_t result;
    uint32_t priority;  // lower merges first
  };
  struct Result {
    int32_t id;
    uint32_t priority;
  };

  explicit MergeTable(const std::vector<Merge>& merges);

  // The merge of (left, right), or nullptr.
  const Result* find(int32_t left, int32_t right) const {
    uint64_t key = pack(left, right);
    for (uint64_t h = hash(key);; ++h) {
      const Slot& s = slots_[h & mask_];
      if (s.key == kEmpty) return nullptr;
      if (s.key == key) return &s.result;
    }
  }

 private:
  struct Slot {
    uint64_t key;
    Result result;
  };
  static constexpr uint64_t kEmpty = ~0ull;
  static uint64_t pack(int32_t l, int32_t r) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
  }
  static uint64_t hash(uint64_t key) { return (key * 0x9E3779B97F4A7C15ull) >> 17; }

  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
};

}  // namespace mobilellm::tokenizer
