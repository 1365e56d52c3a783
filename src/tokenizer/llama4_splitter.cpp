#include "tokenizer/llama4_splitter.h"

#include <array>
#include <cassert>
#include <cstdint>

#include "tokenizer/unicode_class.h"
#include "tokenizer/utf8.h"

namespace mobilellm::tokenizer {
namespace {

using C = CharClass;

// The regex's sets, as bit masks over CharClass.
constexpr uint32_t bit(C c) { return 1u << static_cast<int>(c); }
constexpr uint32_t kSetA = bit(C::kUpper) | bit(C::kLetterOther) | bit(C::kMark);  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
constexpr uint32_t kSetB = bit(C::kLower) | bit(C::kLetterOther) | bit(C::kMark);  // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
constexpr uint32_t kSetP = bit(C::kMark) | bit(C::kSpace) | bit(C::kOther);        // [^\r\n\p{L}\p{N}]
constexpr uint32_t kSetS = bit(C::kSpace) | bit(C::kNewline);                      // \s
constexpr uint32_t kSetPunct = bit(C::kMark) | bit(C::kOther);                     // [^\s\p{L}\p{N}]

// The text of one chunk decoded once, so the matcher can look back and ahead.
struct Decoded {
  std::vector<char32_t> cp;
  std::vector<uint32_t> mask;  // bit(char_class(cp))
  std::vector<uint32_t> off;   // byte offset of each code point, plus the end

  explicit Decoded(std::string_view s) {
    cp.reserve(s.size());
    mask.reserve(s.size());
    off.reserve(s.size() + 1);
    for (size_t i = 0; i < s.size();) {
      auto b = static_cast<unsigned char>(s[i]);
      char32_t c;
      size_t n = 1;
      if (b < 0x80) {
        c = b;
      } else {
        n = utf8_sequence(s, i, &c);
        assert(n != 0 && "text was validated");
      }
      cp.push_back(c);
      mask.push_back(bit(c < 0x80 ? ascii_class(c) : char_class(c)));
      off.push_back(static_cast<uint32_t>(i));
      i += n;
    }
    off.push_back(static_cast<uint32_t>(s.size()));
  }

  static C ascii_class(char32_t c) {
    static const auto table = [] {
      std::array<C, 128> t{};
      for (char32_t i = 0; i < 128; ++i) t[i] = char_class(i);
      return t;
    }();
    return table[c];
  }
};

class Matcher {
 public:
  explicit Matcher(const Decoded& d) : cp_(d.cp), m_(d.mask), n_(d.cp.size()) {}

  // End (code point index) of the match that starts at i. Every code point
  // starts a match of at least one code point, so there is no failure case.
  size_t match(size_t i) const {
    size_t e;
    if (letters_then_lower(i, &e) || upper_then_letters(i, &e) || digits(i, &e) || punctuation(i, &e)) return e;
    return spaces(i);
  }

 private:
  bool in(size_t i, uint32_t set) const { return i < n_ && (m_[i] & set); }
  size_t run(size_t i, uint32_t set) const {
    while (in(i, set)) ++i;
    return i;
  }

  // (?i:'s|'t|'re|'ve|'m|'ll|'d)? at i: its length. Unicode simple case
  // folding maps U+017F (long s) to s as well.
  size_t contraction(size_t i) const {
    if (i + 1 >= n_ || cp_[i] != U'\'') return 0;
    auto fold = [](char32_t c) -> char32_t {
      if (c >= U'A' && c <= U'Z') return c + 32;
      return c == 0x17F ? U's' : c;
    };
    char32_t a = fold(cp_[i + 1]);
    if (a == U's' || a == U't' || a == U'm' || a == U'd') return 2;
    if (i + 2 >= n_) return 0;
    char32_t b = fold(cp_[i + 2]);
    if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return 3;
    return 0;
  }

  // [^\r\n\p{L}\p{N}]?[A]*[B]+(contraction)?  (A* backtracks one step at a time)
  bool letters_then_lower(size_t i, size_t* end) const {
    for (int take_prefix = in(i, kSetP) ? 1 : 0; take_prefix >= 0; --take_prefix) {
      size_t p = i + take_prefix;
      size_t k = run(p, kSetA);
      for (size_t j = k + 1; j-- > p;) {
        if (!in(j, kSetB)) continue;
        size_t e = run(j, kSetB);
        *end = e + contraction(e);
        return true;
      }
    }
    return false;
  }

  // [^\r\n\p{L}\p{N}]?[A]+[B]*(contraction)?
  bool upper_then_letters(size_t i, size_t* end) const {
    for (int take_prefix = in(i, kSetP) ? 1 : 0; take_prefix >= 0; --take_prefix) {
      size_t p = i + take_prefix;
      size_t k = run(p, kSetA);
      if (k == p) continue;
      size_t e = run(k, kSetB);
      *end = e + contraction(e);
      return true;
    }
    return false;
  }

  // \p{N}{1,3}
  bool digits(size_t i, size_t* end) const {
    if (!in(i, bit(C::kNumber))) return false;
    size_t e = i + 1;
    while (e < i + 3 && in(e, bit(C::kNumber))) ++e;
    *end = e;
    return true;
  }

  // ' '?[^\s\p{L}\p{N}]+[\r\n/]*
  bool punctuation(size_t i, size_t* end) const {
    for (int take_space = cp_[i] == U' ' ? 1 : 0; take_space >= 0; --take_space) {
      size_t p = i + take_space;
      size_t k = run(p, kSetPunct);
      if (k == p) continue;
      while (k < n_ && (cp_[k] == U'\r' || cp_[k] == U'\n' || cp_[k] == U'/')) ++k;
      *end = k;
      return true;
    }
    return false;
  }

  // \s*[\r\n]+ | \s+(?!\S) | \s+
  size_t spaces(size_t i) const {
    size_t k = run(i, kSetS);
    assert(k > i && "every other class matched an earlier alternative");
    // \s* gives back until [\r\n]+ can match: the match ends after the last
    // newline of the run.
    for (size_t j = k; j-- > i;)
      if (m_[j] & bit(C::kNewline)) return j + 1;
    // \s+(?!\S): the whole run at the end of text, else all but its last space.
    if (k == n_ || k - i == 1) return k;
    return k - 1;
  }

  const std::vector<char32_t>& cp_;
  const std::vector<uint32_t>& m_;
  size_t n_;
};

}  // namespace

void Llama4Splitter::split(std::string_view text, std::vector<std::string_view>& pieces) const {
  Decoded d(text);
  Matcher m(d);
  size_t n = d.cp.size();
  for (size_t i = 0; i < n;) {
    size_t e = m.match(i);
    pieces.push_back(text.substr(d.off[i], d.off[e] - d.off[i]));
    i = e;
  }
}

}  // namespace mobilellm::tokenizer
