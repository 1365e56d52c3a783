#include "chat/grammar_constraint.h"

#include <algorithm>
#include <cmath>

#include "runtime/error.h"

namespace mobilellm::chat {
namespace {
// States whose masks are kept; a JSON grammar visits few distinct states
// (inside a string it stays in one), so this bounds memory, not hits.
constexpr size_t kMaxCachedMasks = 256;
}  // namespace

SortedVocab::SortedVocab(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id)
    if (!tokenizer.is_special(id) && !tokenizer.token_bytes(id).empty()) ids_.push_back(id);
  std::sort(ids_.begin(), ids_.end(),
            [&](int32_t a, int32_t b) { return tokenizer.token_bytes(a) < tokenizer.token_bytes(b); });
  lcp_.resize(ids_.size());
  for (size_t i = 0; i < ids_.size(); ++i) {
    const std::string_view cur = bytes(i);
    max_length_ = std::max(max_length_, cur.size());
    if (i == 0) continue;
    const std::string_view prev = bytes(i - 1);
    size_t n = 0;
    while (n < cur.size() && n < prev.size() && cur[n] == prev[n]) ++n;
    lcp_[i] = static_cast<uint32_t>(n);
  }
}

GrammarConstraint::GrammarConstraint(Grammar grammar, const SortedVocab& vocab, std::vector<int32_t> stop_ids)
    : grammar_(std::make_unique<const Grammar>(std::move(grammar))),
      recognizer_(*grammar_),
      vocab_(vocab),
      stop_ids_(std::move(stop_ids)),
      state_(recognizer_.start()) {
  if (state_ == Recognizer::kDead) throw Error("the grammar allows no text");
  walk_.resize(vocab_.max_length() + 1);
}

const std::vector<uint64_t>& GrammarConstraint::allowed(int32_t state) {
  if (auto it = allowed_.find(state); it != allowed_.end()) return it->second;
  if (allowed_.size() >= kMaxCachedMasks) allowed_.clear();
  std::vector<uint64_t> bits((static_cast<size_t>(vocab_.vocab_size()) + 63) / 64);
  // walk_[d] is the state after the first d bytes of the previous token, valid
  // for d ≤ depth; a token shares common_prefix bytes with the previous one.
  walk_[0] = state;
  size_t depth = 0;
  for (size_t i = 0; i < vocab_.size(); ++i) {
    const std::string_view b = vocab_.bytes(i);
    size_t d = std::min<size_t>(vocab_.common_prefix(i), depth);
    while (d < b.size() && walk_[d] != Recognizer::kDead) {
      walk_[d + 1] = recognizer_.advance(walk_[d], static_cast<uint8_t>(b[d]));
      ++d;
    }
    depth = d;
    if (d == b.size() && walk_[d] != Recognizer::kDead) {
      const int32_t id = vocab_.id(i);
      bits[static_cast<size_t>(id) / 64] |= uint64_t{1} << (id % 64);
    }
  }
  return allowed_.emplace(state, std::move(bits)).first->second;
}

int64_t GrammarConstraint::mask(std::span<float> logits) {
  // Stop ids are special tokens, outside the walk: they keep their own logits,
  // and only once the text is a complete sentence.
  std::vector<std::pair<int32_t, float>> stops;
  if (recognizer_.accepting(state_))
    for (int32_t id : stop_ids_)
      if (id >= 0 && static_cast<size_t>(id) < logits.size()) stops.emplace_back(id, logits[static_cast<size_t>(id)]);
  const std::vector<uint64_t>& bits = allowed(state_);
  int64_t count = 0;
  for (size_t id = 0; id < logits.size(); ++id) {
    if (id / 64 < bits.size() && ((bits[id / 64] >> (id % 64)) & 1))
      ++count;
    else
      logits[id] = -INFINITY;
  }
  for (const auto& [id, logit] : stops) logits[static_cast<size_t>(id)] = logit;
  return count + static_cast<int64_t>(stops.size());
}

void GrammarConstraint::accept(int32_t token) {
  if (std::find(stop_ids_.begin(), stop_ids_.end(), token) != stop_ids_.end()) return;
  const int32_t next = recognizer_.advance(state_, vocab_.token_bytes(token));
  if (next == Recognizer::kDead)
    throw Error("constrained decoding: token " + std::to_string(token) + " was not allowed");
  state_ = next;
}

}  // namespace mobilellm::chat
