#include "engine/step_batcher.h"

#include <algorithm>
#include <vector>

#include "runtime/error.h"

namespace mobilellm::engine {
namespace {

// Decode rows a step holds beside its prompt chunk (one per generating
// session); more sessions than this wait for the next step.
constexpr int64_t kMaxDecodeRows = 64;
// Rows of every position's logits a step computes at most (a first work is
// always taken, whatever its size).
constexpr int64_t kMaxLogitRows = 64;
// The gather time is the last step's duration, within these bounds: long
// enough for the members to sample, short enough that a member stuck in its
// callback (a slow client) delays the others little.
constexpr auto kMinGather = std::chrono::milliseconds(1);
constexpr auto kMaxGather = std::chrono::milliseconds(50);

}  // namespace

StepBatcher::StepBatcher(const model::Model& model, ThreadPool& pool, int64_t prefill_chunk)
    : forward_(model, pool, std::max<int64_t>(1, prefill_chunk) + kMaxDecodeRows),
      prefill_chunk_(std::max<int64_t>(1, prefill_chunk)),
      vocab_(model.config().vocab_size),
      gather_(kMinGather) {}

StepBatcher::Member::Member(StepBatcher& batcher) : batcher_(batcher) {
  std::lock_guard<std::mutex> lock(batcher_.mutex_);
  ++batcher_.members_;
}

StepBatcher::Member::~Member() {
  {
    std::lock_guard<std::mutex> lock(batcher_.mutex_);
    --batcher_.members_;
  }
  batcher_.changed_.notify_all();  // a step may have been waiting for this member
}

bool StepBatcher::ready(Clock::time_point now) const {
  if (waiting_.empty()) return false;
  return static_cast<int>(waiting_.size()) >= members_ || now >= deadline();
}

StepBatcher::Clock::time_point StepBatcher::deadline() const {
  Clock::time_point first = waiting_.front()->since;
  for (const Work* w : waiting_) first = std::min(first, w->since);
  return first + gather_;
}

int64_t StepBatcher::run(model::KvCache& cache, std::span<const int32_t> tokens, model::LogitsFor which, float* logits,
                         const std::atomic<bool>* cancel) {
  forward_.check(cache, tokens);
  if (tokens.empty()) return 0;
  Work work;
  work.cache = &cache;
  work.tokens = tokens;
  work.which = which;
  work.logits = logits;
  work.cancel = cancel;
  std::unique_lock<std::mutex> lock(mutex_);
  work.since = Clock::now();
  waiting_.push_back(&work);
  changed_.notify_all();  // this may complete the set a step waits for
  while (!work.finished) {
    if (stepping_) {
      changed_.wait(lock);
    } else if (ready(Clock::now())) {
      lead(lock);
    } else {
      changed_.wait_until(lock, deadline());
    }
  }
  if (work.error) std::rethrow_exception(work.error);
  return work.done_tokens;
}

void StepBatcher::lead(std::unique_lock<std::mutex>& lock) {
  // The step: every waiting single token (a decode step), and prompt chunks in
  // arrival order while the chunk budget lasts. A prompt always advances by a
  // whole chunk (or its rest), so its chunks, and with them its numbers, do
  // not depend on what else runs. Rows wanting their logits (scoring, a
  // speculative pass) beyond kMaxLogitRows wait for the next step: that
  // bounds the logits buffer.
  std::vector<Work*> chosen;
  std::vector<model::SequenceStep> steps;
  int64_t budget = prefill_chunk_, rows = 0, logit_rows = 0;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    Work& w = **it;
    if (w.cancel && w.cancel->load()) {
      w.finished = true;
      it = waiting_.erase(it);
      continue;
    }
    ++it;
    const int64_t remaining = static_cast<int64_t>(w.tokens.size()) - w.done_tokens;
    const int64_t n = std::min(remaining, prefill_chunk_);
    if (n > 1 && n > budget) continue;
    if (rows + n > forward_.max_batch()) continue;
    const bool all = w.which == model::LogitsFor::kAll;
    if (all && logit_rows > 0 && logit_rows + n > kMaxLogitRows) continue;
    if (all) logit_rows += n;
    if (n > 1) budget -= n;
    rows += n;
    const bool last = w.done_tokens + n == static_cast<int64_t>(w.tokens.size());
    model::SequenceStep s{w.cache, w.tokens.subspan(static_cast<size_t>(w.done_tokens), static_cast<size_t>(n))};
    if (all) {
      s.which = model::LogitsFor::kAll;
      s.logits = w.logits + w.done_tokens * vocab_;
    } else if (last && w.which == model::LogitsFor::kLast) {
      s.which = model::LogitsFor::kLast;
      s.logits = w.logits;
    }
    chosen.push_back(&w);
    steps.push_back(s);
  }
  if (chosen.empty()) {
    changed_.notify_all();  // only cancelled work was waiting
    return;
  }
  stepping_ = true;
  lock.unlock();
  const Clock::time_point start = Clock::now();
  std::exception_ptr error;
  try {
    forward_.step(steps);
  } catch (...) {
    error = std::current_exception();
  }
  const Clock::time_point end = Clock::now();
  lock.lock();
  stepping_ = false;
  gather_ = std::clamp<Clock::duration>(end - start, kMinGather, kMaxGather);
  ++stats_.steps;
  stats_.last_sequences = static_cast<int64_t>(steps.size());
  stats_.last_tokens = rows;
  stats_.sequences += static_cast<uint64_t>(steps.size());
  stats_.tokens += static_cast<uint64_t>(rows);
  for (size_t i = 0; i < chosen.size(); ++i) {
    Work& w = *chosen[i];
    w.done_tokens += static_cast<int64_t>(steps[i].tokens.size());
    w.error = error;
    if (error || w.done_tokens == static_cast<int64_t>(w.tokens.size())) {
      w.finished = true;
      waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &w));
    }
  }
  for (Work* w : waiting_) w->since = end;  // the gather starts again
  changed_.notify_all();
}

StepStats StepBatcher::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace mobilellm::engine
