#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace mobilellm::tokenizer {
namespace {

struct Alphabet {
  std::array<char32_t, 256> to_char{};
  std::array<int, 0x144> to_byte{};
  Alphabet() {
    to_byte.fill(-1);
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      to_char[b] = printable ? static_cast<char32_t>(b) : next++;
      to_byte[to_char[b]] = b;
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

char32_t byte_to_char(unsigned char b) { return alphabet().to_char[b]; }

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

std::string byte_level_encode(std::string_view bytes) {
  std::string out;
  for (char c : bytes) append_utf8(out, byte_to_char(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace mobilellm::tokenizer
