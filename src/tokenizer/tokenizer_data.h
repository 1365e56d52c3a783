#pragma once
// What a loader reads from the tokenizer files, before the lookup structures
// are built from it.
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/merge_table.h"

namespace mobilellm::tokenizer {

// Ids at or above this are rejected: real vocabularies stay far below, and a
// corrupt file must not make the loader allocate gigabytes.
inline constexpr int64_t kMaxTokenId = 1 << 22;

struct AddedToken {
  int32_t id;
  std::string text;
  bool special;
};

struct TokenizerData {
  std::vector<std::string> tokens;  // bytes of each BPE token, index = id (gaps are empty)
  std::vector<bool> is_bpe;         // ids that BPE may produce
  // Empty: tiktoken semantics (pairs merge by the rank of their concatenation).
  // Otherwise the merge list of tokenizer.json, priority = position.
  std::vector<MergeTable::Merge> merges;
  bool ignore_merges = true;
  std::string pattern;
  std::vector<AddedToken> added;
  std::string bos_token, eos_token;  // texts, from the checkpoint config
  std::vector<int32_t> config_eos_ids;
  std::string chat_template;
  std::string chat_template_origin;  // the file it came from, as messages name it
};

}  // namespace mobilellm::tokenizer
