#include "tokenizer/bpe.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <string>
#include <limits>

#include "runtime/error.h"

namespace mobilellm::tokenizer {
namespace {

constexpr uint32_t kNoMerge = std::numeric_limits<uint32_t>::max();

// Pieces up to this many bytes use the quadratic scan, which wins on the short
// pieces that dominate real text; longer ones (whitespace runs, long words
// without a whole-token match) use a heap.
constexpr size_t kSmallPiece = 128;

// The merge of two adjacent parts: given their ids and the byte span the two
// cover, the merged id and its priority (kNoMerge if they do not merge).
struct RankPair {
  const Vocab& vocab;
  MergeTable::Result operator()(int32_t, int32_t, std::string_view span) const {
    int32_t id = vocab.find(span);
    return {id, id < 0 ? kNoMerge : static_cast<uint32_t>(id)};
  }
};

struct ListPair {
  const MergeTable& merges;
  MergeTable::Result operator()(int32_t left, int32_t right, std::string_view) const {
    const MergeTable::Result* m = merges.find(left, right);
    return m ? *m : MergeTable::Result{-1, kNoMerge};
  }
};

}  // namespace

BytePairEncoder::BytePairEncoder(const Vocab& vocab, const MergeTable* merges, bool ignore_merges)
    : vocab_(vocab), merges_(merges), ignore_merges_(ignore_merges) {
  for (int b = 0; b < 256; ++b) {
    char c = static_cast<char>(b);
    byte_id_[b] = vocab.find(std::string_view(&c, 1));
    if (byte_id_[b] < 0) {
      // Merging by rank needs every byte: it looks pairs up by their bytes.
      if (!merges) throw Error("vocabulary has no token for the byte " + std::to_string(b));
      has_missing_bytes_ = true;
    }
  }
}

void BytePairEncoder::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (has_missing_bytes_) {
    auto missing = [&](char c) { return byte_id_[static_cast<unsigned char>(c)] < 0; };
    if (std::any_of(piece.begin(), piece.end(), missing)) {
      // Hugging Face tokenizers drops a byte that has no token before merging,
      // so its neighbours may merge across it.
      std::string kept;
      std::copy_if(piece.begin(), piece.end(), std::back_inserter(kept), [&](char c) { return !missing(c); });
      if (!kept.empty()) encode_known(kept, out);
      return;
    }
  }
  encode_known(piece, out);
}

void BytePairEncoder::encode_known(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.size() == 1) {
    out.push_back(byte_id_[static_cast<unsigned char>(piece[0])]);
    return;
  }
  if (ignore_merges_) {
    int32_t id = vocab_.find(piece);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  bool small = piece.size() <= kSmallPiece;
  if (merges_) {
    ListPair pair{*merges_};
    small ? merge_small(piece, pair, out) : merge_large(piece, pair, out);
  } else {
    RankPair pair{vocab_};
    small ? merge_small(piece, pair, out) : merge_large(piece, pair, out);
  }
}

template <class Pair>
void BytePairEncoder::merge_small(std::string_view piece, const Pair& pair, std::vector<int32_t>& out) const {
  size_t n = piece.size();
  int32_t ids[kSmallPiece];
  uint32_t start[kSmallPiece + 1];  // byte offset of each part, plus the end
  uint32_t pri[kSmallPiece];        // priority of merging part i with part i + 1
  int32_t res[kSmallPiece];
  for (size_t i = 0; i < n; ++i) {
    ids[i] = byte_id_[static_cast<unsigned char>(piece[i])];
    start[i] = static_cast<uint32_t>(i);
  }
  start[n] = static_cast<uint32_t>(n);
  auto update = [&](size_t i) {
    MergeTable::Result m = pair(ids[i], ids[i + 1], piece.substr(start[i], start[i + 2] - start[i]));
    pri[i] = m.priority;
    res[i] = m.id;
  };
  for (size_t i = 0; i + 1 < n; ++i) update(i);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i)
      if (pri[i] < pri[best]) best = i;
    if (pri[best] == kNoMerge) break;
    ids[best] = res[best];
    std::copy(ids + best + 2, ids + n, ids + best + 1);
    std::copy(start + best + 2, start + n + 1, start + best + 1);
    if (best + 2 < n) {  // pairs after the merged one move down by one
      std::copy(pri + best + 2, pri + n - 1, pri + best + 1);
      std::copy(res + best + 2, res + n - 1, res + best + 1);
    }
    --n;
    if (best + 1 < n) update(best);
    if (best > 0) update(best - 1);
  }
  out.insert(out.end(), ids, ids + n);
}

template <class Pair>
void BytePairEncoder::merge_large(std::string_view piece, const Pair& pair, std::vector<int32_t>& out) const {
  size_t n = piece.size();
  std::vector<int32_t> ids(n), res(n, -1);
  std::vector<uint32_t> next(n), prev(n), pri(n, kNoMerge);
  for (size_t i = 0; i < n; ++i) {
    ids[i] = byte_id_[static_cast<unsigned char>(piece[i])];
    next[i] = static_cast<uint32_t>(i + 1);
    prev[i] = static_cast<uint32_t>(i - 1);  // wraps for i = 0; never read there
  }
  // Min-heap of (priority << 32 | position); entries whose pair has changed
  // since are recognised as stale and skipped.
  std::vector<uint64_t> heap;
  auto update = [&](size_t i) {
    size_t j = next[i];
    if (j >= n) {
      pri[i] = kNoMerge;
      return;
    }
    size_t end = next[j];
    MergeTable::Result m = pair(ids[i], ids[j], piece.substr(i, end - i));
    pri[i] = m.priority;
    res[i] = m.id;
    if (m.priority != kNoMerge) {
      heap.push_back((static_cast<uint64_t>(m.priority) << 32) | i);
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) update(i);
  std::vector<bool> alive(n, true);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    uint64_t top = heap.back();
    heap.pop_back();
    auto i = static_cast<size_t>(top & 0xFFFFFFFFu);
    if (!alive[i] || pri[i] != (top >> 32)) continue;
    size_t j = next[i];
    ids[i] = res[i];
    alive[j] = false;
    next[i] = next[j];
    if (next[j] < n) prev[next[j]] = static_cast<uint32_t>(i);
    update(i);
    if (i > 0) update(prev[i]);
  }
  for (size_t i = 0; i < n; i = next[i]) out.push_back(ids[i]);
}

}  // namespace mobilellm::tokenizer
