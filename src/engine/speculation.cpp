#include "engine/speculation.h"

#include <algorithm>

namespace mobilellm::engine {

std::vector<int32_t> PromptLookup::propose(std::span<const int32_t> context, int64_t max) {
  const int64_t size = static_cast<int64_t>(context.size());
  for (int64_t n = std::min(kMaxNgram, size - 1); n >= kMinNgram && max > 0; --n) {
    const std::span<const int32_t> suffix = context.subspan(static_cast<size_t>(size - n));
    // Matches ending before the last token, so at least one token follows.
    for (int64_t start = size - n - 1; start >= 0; --start) {
      if (!std::equal(suffix.begin(), suffix.end(), context.begin() + start)) continue;
      const int64_t from = start + n, count = std::min(max, size - from);
      return {context.begin() + from, context.begin() + from + count};
    }
  }
  return {};
}

DraftModel::DraftModel(Engine& draft, int64_t context) : session_(draft.new_session(context)) {
  request_.sampling.temperature = 0;
  request_.skip_special = false;
}

std::vector<int32_t> DraftModel::propose(std::span<const int32_t> context, int64_t max) {
  const int64_t room = session_->context() - static_cast<int64_t>(context.size());
  if (context.empty() || std::min(max, room) <= 0) return {};
  request_.prompt.assign(context.begin(), context.end());
  request_.max_tokens = std::min(max, room);
  return session_->generate(request_).tokens;
}

int64_t DraftBudget::next() {
  if (pause_ > 0) {
    --pause_;
    return 0;
  }
  return max_;
}

void DraftBudget::verified(int64_t proposed, int64_t accepted) {
  proposed_ += proposed;
  accepted_ += accepted;
  if (accepted > 0) {
    failures_ = 0;
    return;
  }
  if (++failures_ >= kFailuresBeforePause)
    pause_ = std::min(kMaxPause, int64_t{1} << std::min(failures_ - kFailuresBeforePause + 1, 16));
}

}  // namespace mobilellm::engine
