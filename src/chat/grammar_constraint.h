#pragma once
// Constrained decoding: a TokenConstraint that allows exactly the tokens whose
// bytes keep the text a prefix of a sentence of a grammar, and the stop ids
// once the text is a complete sentence.
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "chat/grammar.h"
#include "mobilellm/engine.h"

namespace mobilellm::chat {

// The vocabulary sorted by bytes, built once per server: tokens sharing a
// prefix are neighbours, so the grammar walks each shared prefix once.
class SortedVocab {
 public:
  explicit SortedVocab(const Tokenizer& tokenizer);  // special tokens excluded
  size_t size() const { return ids_.size(); }
  int32_t id(size_t i) const { return ids_[i]; }
  std::string_view bytes(size_t i) const { return tokenizer_.token_bytes(ids_[i]); }
  size_t common_prefix(size_t i) const { return lcp_[i]; }  // with entry i - 1
  size_t max_length() const { return max_length_; }
  int32_t vocab_size() const { return tokenizer_.vocab_size(); }
  std::string_view token_bytes(int32_t id) const { return tokenizer_.token_bytes(id); }

 private:
  const Tokenizer& tokenizer_;
  std::vector<int32_t> ids_;
  std::vector<uint32_t> lcp_;
  size_t max_length_ = 0;
};

class GrammarConstraint : public TokenConstraint {
 public:
  GrammarConstraint(Grammar grammar, const SortedVocab& vocab, std::vector<int32_t> stop_ids);
  int64_t mask(std::span<float> logits) override;
  void accept(int32_t token) override;
  bool complete() const { return recognizer_.accepting(state_); }

 private:
  // Which tokens may follow a grammar state (bit per id), computed once per state.
  const std::vector<uint64_t>& allowed(int32_t state);

  std::unique_ptr<const Grammar> grammar_;  // the recognizer refers to it
  Recognizer recognizer_;
  const SortedVocab& vocab_;
  std::vector<int32_t> stop_ids_;
  int32_t state_;
  std::unordered_map<int32_t, std::vector<uint64_t>> allowed_;
  std::vector<int32_t> walk_;  // states along the current token's bytes
};

}  // namespace mobilellm::chat
