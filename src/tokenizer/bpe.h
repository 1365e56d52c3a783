#pragma once
// Byte-level BPE of one pre-tokenized piece: start from single bytes and
// repeatedly apply the lowest-priority merge among adjacent pairs (leftmost
// on ties), as tiktoken and Hugging Face tokenizers both do.
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/merge_table.h"
#include "tokenizer/vocab.h"

namespace mobilellm::tokenizer {

class BytePairEncoder {
 public:
  // With `merges` null, tiktoken semantics: two parts merge when their
  // concatenated bytes are a token, and that token's id (its rank) is the
  // priority. Otherwise the merge list decides (Hugging Face tokenizer.json).
  // ignore_merges: a piece that is a token as a whole becomes that token
  // without merging (tiktoken always; Hugging Face when "ignore_merges").
  // Without `merges` every byte must have a token (else this throws); with
  // them, bytes that have none are dropped from the pieces they occur in.
  BytePairEncoder(const Vocab& vocab, const MergeTable* merges, bool ignore_merges);

  void encode(std::string_view piece, std::vector<int32_t>& out) const;

 private:
  void encode_known(std::string_view piece, std::vector<int32_t>& out) const;
  template <class Pair>
  void merge_small(std::string_view piece, const Pair& pair, std::vector<int32_t>& out) const;
  template <class Pair>
  void merge_large(std::string_view piece, const Pair& pair, std::vector<int32_t>& out) const;

  const Vocab& vocab_;
  const MergeTable* merges_;
  bool ignore_merges_;
  int32_t byte_id_[256];  // -1: the byte has no token
  bool has_missing_bytes_ = false;
};

}  // namespace mobilellm::tokenizer
