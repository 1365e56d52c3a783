#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace mobilellm::tokenizer {
namespace {

struct Alphabet {
  std::array<int, 0x144> to_byte{};  // character → byte, -1 outside the alphabet
  Alphabet() {
    to_byte.fill(-1);
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      to_byte[printable ? static_cast<char32_t>(b) : next++] = b;
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

std::optional<std::string> byte_level_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    size_t n = utf8_sequence(s, i, &cp);
    if (n == 0 || cp >= alphabet().to_byte.size() || alphabet().to_byte[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(alphabet().to_byte[cp]));
    i += n;
  }
  return out;
}

}  // namespace mobilellm::tokenizer
