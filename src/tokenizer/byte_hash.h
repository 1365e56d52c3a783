#pragma once
// A fast non-cryptographic hash for short byte strings (BPE pieces are mostly
// under 16 bytes): 8 bytes at a time with a multiply-xorshift mix.
#include <cstdint>
#include <cstring>
#include <string_view>

namespace mobilellm::tokenizer {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  return x;
}

inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix64(h ^ w);
  }
  if (i < s.size()) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = mix64(h ^ w ^ 0xFF);
  }
  return h;
}

}  // namespace mobilellm::tokenizer
