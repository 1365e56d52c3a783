#include "tokenizer/pcre2_splitter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "runtime/error.h"

namespace mobilellm::tokenizer {
namespace {

pcre2_code* code(void* p) { return static_cast<pcre2_code*>(p); }

}  // namespace

Pcre2Splitter::Pcre2Splitter(std::string_view pattern) {
  int err = 0;
  PCRE2_SIZE offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP, &err,
                        &offset, nullptr);
  if (!code_) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw Error("split regex does not compile at offset " + std::to_string(offset) + ": " +
                reinterpret_cast<const char*>(msg));
  }
  // JIT is an optimisation; the interpreter gives the same matches.
  pcre2_jit_compile(code(code_), PCRE2_JIT_COMPLETE);
}

Pcre2Splitter::~Pcre2Splitter() { pcre2_code_free(code(code_)); }

void Pcre2Splitter::split(std::string_view text, std::vector<std::string_view>& pieces) const {
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code(code_), nullptr);
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0, kept = 0;
  while (pos < text.size()) {
    // The text was validated once; skip PCRE2's per-call UTF check.
    int rc = pcre2_match(code(code_), subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      pcre2_match_data_free(md);
      throw Error("split regex failed to match (PCRE2 error " + std::to_string(rc) + ")");
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t start = ov[0], end = ov[1];
    if (end == start) {  // empty match: step over one code point
      pos = start + 1;
      while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
      continue;
    }
    if (start > kept) pieces.push_back(text.substr(kept, start - kept));
    pieces.push_back(text.substr(start, end - start));
    kept = pos = end;
  }
  if (kept < text.size()) pieces.push_back(text.substr(kept));
  pcre2_match_data_free(md);
}

}  // namespace mobilellm::tokenizer
