#include "tokenizer/sentencepiece.h"

#include <queue>

#include "tokenizer/utf8.h"

namespace mobilellm::tokenizer {
namespace {

struct Candidate {
  float score;
  uint32_t left;
  uint32_t size;  // bytes of the pair when it was queued; a change means it is stale
  int32_t id;
};

// Highest score first, then the leftmost pair (sentencepiece's agenda order).
struct Later {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

SentencePieceEncoder::SentencePieceEncoder(const Vocab& vocab, std::vector<float> scores,
                                           std::vector<int32_t> byte_tokens, int32_t unk_id)
    : vocab_(vocab), scores_(std::move(scores)), byte_tokens_(std::move(byte_tokens)), unk_id_(unk_id) {}

void SentencePieceEncoder::encode(std::string_view text, std::vector<int32_t>& out) const {
  // One symbol per code point: its byte offset, byte length and neighbours.
  std::vector<uint32_t> start, size, next, prev;
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    size_t n = utf8_sequence(text, i, &cp);
    if (n == 0) n = 1;  // the caller validated the text; never split a byte stream mid-way
    start.push_back(static_cast<uint32_t>(i));
    size.push_back(static_cast<uint32_t>(n));
    i += n;
  }
  const auto count = static_cast<uint32_t>(start.size());
  constexpr uint32_t kNone = UINT32_MAX;
  next.resize(count);
  prev.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    next[i] = i + 1 < count ? i + 1 : kNone;
    prev[i] = i > 0 ? i - 1 : kNone;
  }

  std::priority_queue<Candidate, std::vector<Candidate>, Later> queue;
  auto consider = [&](uint32_t left) {
    if (left == kNone || next[left] == kNone) return;
    uint32_t bytes = size[left] + size[next[left]];
    int32_t id = vocab_.find(text.substr(start[left], bytes));
    if (id >= 0) queue.push({scores_[id], left, bytes, id});
  };
  for (uint32_t i = 0; i + 1 < count; ++i) consider(i);
  while (!queue.empty()) {
    Candidate c = queue.top();
    queue.pop();
    uint32_t right = next[c.left];
    // Stale: the left symbol was merged into its own left neighbour (size 0)
    // or either side has grown since the pair was queued.
    if (size[c.left] == 0 || right == kNone || size[c.left] + size[right] != c.size) continue;
    size[c.left] = c.size;
    size[right] = 0;
    next[c.left] = next[right];
    if (next[right] != kNone) prev[next[right]] = c.left;
    consider(prev[c.left]);
    consider(c.left);
  }

  for (uint32_t i = 0; i != kNone && count > 0; i = next[i]) {
    std::string_view piece = text.substr(start[i], size[i]);
    int32_t id = vocab_.find(piece);
    if (id >= 0) {
      out.push_back(id);
    } else if (!byte_tokens_.empty()) {
      for (char b : piece) out.push_back(byte_tokens_[static_cast<unsigned char>(b)]);
    } else {
      out.push_back(unk_id_);
    }
  }
}

}  // namespace mobilellm::tokenizer
