// The hand-written splitter's character classes against tiktoken's regex
// engine, probe by probe, on every code point of the planes in use
// (tools/reference/tokenizer/char_probes.py).
#include <gtest/gtest.h>

#include <map>

#include "fixtures.h"
#include "tokenizer/llama4_splitter.h"
#include "tokenizer/unicode_class.h"
#include "tokenizer/utf8.h"

namespace mobilellm::tokenizer {
namespace {

// Must match PROBES in char_probes.py; {} stands for the code point.
const char* const kProbes[] = {"a{}", "A{}", "{}A", "{}Ab", "1{}", "\n{}\n", "!!{}", "{}'s", " {}a"};

uint16_t signature(const Llama4Splitter& splitter, char32_t cp) {
  std::string c;
  append_utf8(c, cp);
  uint16_t bits = 0;
  std::vector<std::string_view> pieces;
  for (size_t k = 0; k < std::size(kProbes); ++k) {
    std::string probe = kProbes[k];
    probe.replace(probe.find("{}"), 2, c);
    pieces.clear();
    splitter.split(probe, pieces);
    if (pieces.size() == 1) bits |= 1u << k;
  }
  return bits;
}

TEST(CharClass, ProbesTellEveryClassApart) {
  Llama4Splitter splitter;
  std::map<uint16_t, char32_t> seen;
  for (char32_t cp : {U'A', U'a', U'中', U'\u0301', U'7', U'\n', U' ', U'!'}) {
    auto [it, fresh] = seen.emplace(signature(splitter, cp), cp);
    EXPECT_TRUE(fresh) << "U+" << std::hex << static_cast<uint32_t>(cp) << " and U+"
                       << static_cast<uint32_t>(it->second)
                       << " give the same probe results, so the test could not tell their classes apart";
  }
}

TEST(CharClass, MatchesTiktokenOnEveryCodePoint) {
  std::string s = test::read_all(test::reference_dir() / "char_probes.bin");
  ASSERT_GT(s.size(), 4u);
  size_t pos = 0;
  uint32_t n = test::read_u32(s, pos);
  Llama4Splitter splitter;
  size_t failures = 0;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t cp = test::read_u32(s, pos);
    uint16_t want;
    std::memcpy(&want, s.data() + pos, 2);
    bool py_space = s[pos + 2] != 0;
    pos += 3;
    uint16_t got = signature(splitter, cp);
    if (got != want && ++failures <= 10)
      ADD_FAILURE() << "U+" << std::hex << cp << ": probes " << got << ", tiktoken " << want;
    if (is_python_space(cp) != py_space && ++failures <= 10)
      ADD_FAILURE() << "U+" << std::hex << cp << ": isspace differs";
  }
  EXPECT_EQ(failures, 0u);
}

}  // namespace
}  // namespace mobilellm::tokenizer
