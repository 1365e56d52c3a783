#pragma once
// What a loader reads from the tokenizer files, before the lookup structures
// are built from it.
#include <cstdint>
#include <optional>
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
  // Split regexes applied in turn: each cuts the pieces of the one before.
  std::vector<std::string> patterns;
  // Meta's 400,000 / 25,000 long-input chunking (Llama-4 tokenizer files);
  // GGUF vocabularies encode their text whole, as llama.cpp and tokenizers do.
  bool meta_chunking = true;
  // SentencePiece (GGUF "llama"): the score of each token, which orders the
  // merges; non-empty selects the SentencePiece encoder instead of BPE.
  std::vector<float> scores;
  std::vector<int32_t> byte_tokens;  // SentencePiece byte fallback: the <0xNN> id per byte (empty: none)
  bool add_space_prefix = false;     // SentencePiece: " " before text at the start and after a special token
  std::vector<AddedToken> added;
  std::string bos_token, eos_token;  // texts, from the checkpoint config
  std::vector<int32_t> config_eos_ids;
  // From GGUF metadata, which names ids instead of texts: these replace the
  // lookups by text when set.
  int32_t bos_id = -1, eos_id = -1, unk_id = -1;
  std::vector<int32_t> stop_ids;
  // The model's own choice (GGUF add_bos_token / add_eos_token, tokenizer_config.json's add_bos_token).
  std::optional<bool> add_bos, add_eos;
  std::string chat_template;
  std::string chat_template_origin;  // the file it came from, as messages name it
};

}  // namespace mobilellm::tokenizer
