#pragma once
// SentencePiece BPE encoding of one fragment of text, as sentencepiece's
// bpe_model.cc and llama.cpp's llm_tokenizer_spm do it: start from code
// points and repeatedly merge the adjacent pair whose concatenation is the
// piece of highest score (leftmost on ties); a code point that is no piece
// becomes its UTF-8 bytes' <0xNN> tokens (byte fallback), or the unknown token.
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace mobilellm::tokenizer {

class SentencePieceEncoder {
 public:
  // vocab.find() gives the pieces merging may produce, with "▁" already
  // turned into " "; scores[id] is the score of piece id. byte_tokens: 256
  // ids, or empty when the vocabulary has no byte fallback (then unk_id,
  // which must be a valid id).
  SentencePieceEncoder(const Vocab& vocab, std::vector<float> scores, std::vector<int32_t> byte_tokens, int32_t unk_id);

  // `text`: valid UTF-8, spaces as they are.
  void encode(std::string_view text, std::vector<int32_t>& out) const;

 private:
  const Vocab& vocab_;
  std::vector<float> scores_;
  std::vector<int32_t> byte_tokens_;
  int32_t unk_id_;
};

}  // namespace mobilellm::tokenizer
