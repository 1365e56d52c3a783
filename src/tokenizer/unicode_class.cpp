#include "tokenizer/unicode_class.h"

#include <array>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace mobilellm::tokenizer {
namespace {

struct Range {
  char32_t first, last;
  CharClass cls;
};

constexpr Range kRanges[] = {
#include "tokenizer/unicode_class_ranges.inc"
};

constexpr char32_t kMaxCodePoint = 0x10FFFF;

// Two-level table: 4352 blocks of 256 code points, identical blocks shared,
// so a lookup is two loads from about 100 KB that stay hot per script.
class ClassTable {
 public:
  ClassTable() {
    std::vector<uint8_t> flat(kMaxCodePoint + 1, 0);
    for (const Range& r : kRanges) std::memset(&flat[r.first], static_cast<int>(r.cls), r.last - r.first + 1);
    std::map<std::string, uint32_t> seen;
    for (size_t b = 0; b < index_.size(); ++b) {
      std::string block(reinterpret_cast<const char*>(&flat[b << 8]), 256);
      auto [it, fresh] = seen.emplace(block, static_cast<uint32_t>(blocks_.size()));
      if (fresh) blocks_.insert(blocks_.end(), block.begin(), block.end());
      index_[b] = it->second;  // byte offset of the block
    }
  }
  CharClass get(char32_t cp) const {
    if (cp > kMaxCodePoint) return CharClass::kOther;
    return static_cast<CharClass>(blocks_[index_[cp >> 8] + (cp & 0xFF)]);
  }

 private:
  std::array<uint32_t, (kMaxCodePoint >> 8) + 1> index_{};
  std::vector<uint8_t> blocks_;
};

}  // namespace

CharClass char_class(char32_t cp) {
  static const ClassTable table;
  return table.get(cp);
}

bool is_python_space(char32_t cp) {
  // Characters of category Zs or bidirectional class WS, B or S.
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return cp >= 0x2000 && cp <= 0x200A;
  }
}

}  // namespace mobilellm::tokenizer
